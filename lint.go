package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/crashlens/crashlens/lint"
	"github.com/crashlens/crashlens/report"
	"github.com/spf13/cobra"
)

func newLintCmd(stdout io.Writer) *cobra.Command {
	var files []string
	var output, templateFile string
	cmd := &cobra.Command{
		Use:   "lint -f FILE|DIR|- ...",
		Short: "Check workload manifests for probe misconfigurations (exit 1 on errors)",
		Long: `lint reads manifests (multi-document YAML, JSON, Lists; Helm output on
stdin with -f -) and reports the probe findings that need no running
cluster, with file and line. It exits 1 when a finding is at error severity.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return usageError{errors.New("lint needs -f FILE, -f DIR or -f -")}
			}
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want text or json", output)}
			}
			tmpl, err := lint.LoadTemplate(templateFile)
			if err != nil {
				return err
			}
			rs, err := lint.Linter{Template: tmpl}.Paths(files, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if output == "json" {
				err = report.LintJSON(stdout, rs)
			} else {
				err = lint.Text(stdout, rs)
			}
			if err != nil {
				return err
			}
			if lint.HasErrors(rs) {
				return exitCodeError{exitError}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory, or - for stdin (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().StringVar(&templateFile, "probe-template", "", "YAML file with your team's recommended probes; differences are reported as info")
	return cmd
}
