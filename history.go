package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/sanitize"

	"github.com/spf13/cobra"

	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/theme"
)

func newHistoryCmd(flags *clusters.Flags, lf *ledgerFlags, stdout, stderr io.Writer) *cobra.Command {
	var output string
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "history [NS/POD | POD | deploy/NAME]",
		Short: "Crashes the ledger remembers (-o table|json, --since 24h)",
		Long: `history prints the crash ledger's rows, newest first: every termination a
crashlens TUI or list --watch observed while it ran, with its exit, what
killed it, the first error line and, in JSON, the log tail and events of
that instance. It covers only the time crashlens was running.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want table or json", output)}
			}
			if lf.off {
				return usageError{errors.New("history reads the ledger: drop --no-ledger")}
			}
			q := ledger.Query{Limit: 100000}
			if flags.Config.Namespace != nil {
				q.Namespace = *flags.Config.Namespace
			}
			contexts, err := flags.Contexts()
			if err != nil {
				return err
			}
			if flags.Config.Context != nil && contexts == nil {
				q.Context = *flags.Config.Context
			}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			if len(args) == 1 {
				if err := historyTarget(args[0], &q); err != nil {
					return usageError{err}
				}
			}
			l, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer l.Close()
			rows, err := l.History(cmd.Context(), q)
			if err != nil {
				return err
			}
			if contexts != nil { // several contexts: the rows of any of them
				rows = slices.DeleteFunc(rows, func(r ledger.Crash) bool { return !slices.Contains(contexts, r.Context) })
			}
			rows = withRecorders(cmd.Context(), flags, contexts, q, rows, stderr)
			if output == "json" {
				return report.HistoryJSON(stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(stderr, "no crashes in the ledger %s match\n", l.Path())
				return nil
			}
			return report.HistoryTable(stdout, rows, theme.ForTerminal(report.IsTerminal(stdout)), time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	cmd.Flags().DurationVar(&since, "since", 0, "only crashes newer than this, e.g. 24h")
	return cmd
}

// withRecorders merges the local rows with those of each selected
// context's in-cluster recorder (read with the user's credentials), saying
// in one line on stderr where the history comes from. A cluster that does
// not answer, has no recorder or refuses costs that line, never the
// command.
func withRecorders(ctx context.Context, flags *clusters.Flags, contexts []string, q ledger.Query, rows []ledger.Crash, stderr io.Writer) []ledger.Crash {
	targets := []*clusters.Flags{flags}
	if contexts != nil {
		targets = targets[:0]
		for _, name := range contexts {
			targets = append(targets, flags.ForContext(name))
		}
	}
	local := rows
	for _, f := range targets {
		s, err := clusters.Connect(ctx, f, version)
		if err != nil {
			fmt.Fprintf(stderr, "crashlens: history: in-cluster recorder not read: %s\n", sanitize.Line(err.Error()))
			continue
		}
		remote, err := capture.RecorderHistory(ctx, s.Client, s.Target.Context, q)
		line := capture.Source(local, nil, remote, err)
		rows = ledger.Merge(rows, remote, q.Limit)
		if line != "" && (err == nil || !errors.Is(err, capture.ErrNoRecorder)) {
			fmt.Fprintf(stderr, "crashlens: %s: %s\n", sanitize.Line(s.Target.Context), line)
		}
	}
	return rows
}

// historyTarget reads NS/POD, POD or KIND/NAME (deploy, sts, ds, job,
// cronjob) into the query.
func historyTarget(arg string, q *ledger.Query) error {
	kinds := map[string]string{"deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
		"sts": "StatefulSet", "statefulset": "StatefulSet", "ds": "DaemonSet", "daemonset": "DaemonSet",
		"job": "Job", "cronjob": "CronJob", "cj": "CronJob", "rs": "ReplicaSet", "replicaset": "ReplicaSet"}
	first, rest, ok := strings.Cut(arg, "/")
	switch {
	case !ok:
		q.Pod = arg
	case kinds[strings.ToLower(first)] != "":
		if rest == "" {
			return fmt.Errorf("%s: no name", arg)
		}
		q.Workload = kinds[strings.ToLower(first)] + "/" + rest
	default:
		q.Namespace, q.Pod = first, rest
	}
	return nil
}
