package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/crash"

	"github.com/spf13/cobra"

	"github.com/crashlens/crashlens/alert"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
)

// listOptions are the flags of `crashlens list`.
type listOptions struct {
	output      string // table, wide or json
	failOnCrash bool
	watch       bool
	alerts      alert.Config
}

func newListCmd(flags *clusters.Flags, lf *ledgerFlags, stdout, stderr io.Writer) *cobra.Command {
	o := listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List crash groups without a terminal UI (-o table|wide|json, --watch)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "table" && o.output != "wide" && o.output != "json" {
				return usageError{fmt.Errorf("-o %q: want table, wide or json", o.output)}
			}
			if o.watch && o.output != "json" {
				return usageError{errors.New("--watch writes JSON lines: use -o json")}
			}
			if o.alerts.URL != "" && !o.watch {
				return usageError{errors.New("--webhook alerts need --watch")}
			}
			if o.watch {
				return runWatch(cmd.Context(), flags, lf, o.alerts, stdout, stderr)
			}
			return runList(cmd.Context(), flags, o, stdout, stderr)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "table, wide or json")
	cmd.Flags().BoolVar(&o.failOnCrash, "fail-on-crash", false, "exit 3 when anything is crashing (for scripts)")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "keep watching; one JSON line per added, changed or resolved group (-o json)")
	cmd.Flags().StringVar(&o.alerts.URL, "webhook", "", "with --watch: post a Slack-compatible alert to this URL when a group crosses --restart-threshold")
	cmd.Flags().Int32Var(&o.alerts.RestartThreshold, "restart-threshold", alert.DefaultThreshold, "alert when a group has this many restarts")
	cmd.Flags().StringArrayVar(&o.alerts.IgnoreNamespaces, "ignore-namespace", nil, "never alert for this namespace (repeatable)")
	cmd.Flags().DurationVar(&o.alerts.MuteFor, "mute-for", alert.DefaultMuteFor, "after an alert, mute the same group this long")
	return cmd
}

// listSyncTimeout bounds how long `list` waits for each cluster's first
// full view when no --request-timeout is set.
const listSyncTimeout = 60 * time.Second

// runList is one-shot `crashlens list` over one context or several: a
// context that fails costs one line on stderr and never hides the others,
// and the command fails only when every context failed (one context: its
// error, as it always was). One-shot list reads each pod's status only: it
// does not capture logs, so CAUSE is the status's verdict; `-o wide` adds
// each group's first log error.
func runList(ctx context.Context, flags *clusters.Flags, o listOptions, stdout, stderr io.Writer) error {
	listed, single, err := clusters.List(ctx, flags, version, listSyncTimeout)
	var groups []crash.Group
	failed := 0
	for _, l := range listed {
		prefix := ""
		if !single {
			prefix = "context " + sanitize.Line(l.Name) + ": "
		}
		if l.Err != nil && !single {
			failed++
			fmt.Fprintf(stderr, "crashlens: %s%s\n", prefix, sanitize.Line(l.Err.Error()))
			continue
		}
		if l.Session != nil && l.Session.Scope.Note != "" {
			fmt.Fprintf(stderr, "crashlens: %s%s\n", prefix, l.Session.Scope.Note)
		}
		groups = append(groups, l.Groups...)
	}
	if err != nil {
		return err
	}
	if failed == len(listed) {
		return fmt.Errorf("none of the %d contexts answered", len(listed))
	}
	firstErrors := func() map[string]string {
		out := map[string]string{}
		for _, l := range listed {
			if l.Err == nil {
				maps.Copy(out, kube.FirstLogErrors(ctx, l.Session.Client, l.Groups))
			}
		}
		return out
	}
	po := report.ListOptions{Format: o.output, Clusters: !single, Empty: fmt.Sprintf("%d contexts", len(listed)-failed)}
	if single {
		po.Empty = scopeText(listed[0].Session.Scope.Namespace)
	}
	if err := report.PrintList(po, groups, firstErrors, stdout, stderr); err != nil {
		return err
	}
	if o.failOnCrash && len(groups) > 0 {
		return exitCodeError{exitCrash}
	}
	return nil
}

// runWatch is `list --watch` over one context or several: each cluster's
// crashes captured (CAUSE refined, recorded in the crash ledger unless
// --no-ledger) and, with --webhook, alerted on with the top finding of the
// group's own cluster.
func runWatch(ctx context.Context, flags *clusters.Flags, lf *ledgerFlags, alerts alert.Config, stdout, stderr io.Writer) error {
	fleet, err := clusters.Open(ctx, flags, version)
	if err != nil {
		return err
	}
	if s := fleet.Single(); s != nil && s.Scope.Note != "" {
		fmt.Fprintf(stderr, "crashlens: %s\n", s.Scope.Note)
	}
	l, err := lf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "crashlens: %s\n", ledgerOff(err))
	}
	capture.Start(ctx, fleet, capture.Options{Ledger: l, Warn: stderr})
	var observe func(crash.Group)
	if alerts.URL != "" {
		alerts.Log, alerts.Explain = stderr, fleet.TopFinding
		a := alert.New(alerts)
		go a.Run(ctx)
		observe = a.Observe
	}
	return report.Watch(fleet.Batches(), fleet.Single() == nil, stdout, stderr, observe)
}
