package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/lint"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/spf13/cobra"
)

func newExplainCmd(flags *clusters.Flags, lf *ledgerFlags, stdout, stderr io.Writer) *cobra.Command {
	var output, container, templateFile string
	cmd := &cobra.Command{
		Use:   "explain NS/POD | POD | deploy/NAME",
		Short: "Explain one pod's crash as Markdown or JSON",
		Long: `explain gathers what the detail screen shows for one pod (events of the pod and
its owners, previous and current logs, the exit code in context, the back-off
timeline, the probe diff and patch) and writes it as a report, with what the
crash ledger remembers of the workload's earlier crashes. deploy/NAME picks
the Deployment's newest crashing pod.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "markdown" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want markdown or json", output)}
			}
			tmpl, err := lint.LoadTemplate(templateFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := clusters.Connect(ctx, flags, version)
			if err != nil {
				return err
			}
			ns, name, err := kube.ResolvePod(ctx, s.Client, args[0], s.Target.ContextNamespace)
			if err != nil {
				return err
			}
			inc, err := kube.Gather(ctx, s.Client, nil, ns, name, container)
			if err != nil {
				return err
			}
			inc.Cluster = s.Target.Context
			now := time.Now()
			r := diagnose.Diagnose(inc.Input(tmpl, now))
			history, err := lf.workloadHistory(ctx, s.Target.Context, inc.Pod, r.Pod.Container)
			if err != nil {
				fmt.Fprintf(stderr, "crashlens: no local crash history in the report: %v\n", err)
			}
			// The in-cluster recorder's rows of the workload, when the
			// cluster runs one and the user may read it.
			q := ledger.Query{Namespace: inc.Pod.Namespace, Workload: diagnose.ResolveOwner(inc.Pod), Container: r.Pod.Container, Limit: 1000}
			remote, err := capture.RecorderHistory(ctx, s.Client, s.Target.Context, q)
			if err != nil && !errors.Is(err, capture.ErrNoRecorder) {
				fmt.Fprintf(stderr, "crashlens: %s\n", sanitize.Line(err.Error()))
			}
			history = ledger.Merge(history, remote, q.Limit)
			// Both outputs show the back-off as the pod's rows show it
			// (report.Backoff, as the TUI's header does); without rows (the
			// ledger off or empty, no recorder) the assumed curve stays.
			if output == "json" {
				return report.ExplainJSON(stdout, inc, r, history)
			}
			return report.Markdown(stdout, inc, r, history, now, version)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "markdown", "markdown or json")
	cmd.Flags().StringVarP(&container, "container", "c", "", "container to explain (default: the failing one)")
	cmd.Flags().StringVar(&templateFile, "probe-template", "", "YAML file with your team's recommended probes")
	return cmd
}
