package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/crash"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/alert"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/lint"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// listSyncTimeout bounds how long `list` waits for the first full view
// when no --request-timeout is set.
const listSyncTimeout = 60 * time.Second

// open connects, checks the server answers, and resolves what the user may
// watch (saying so on stderr when it falls back to one namespace).
func open(ctx context.Context, f *clusters.Flags, stderr io.Writer) (*clusters.Session, error) {
	s, err := clusters.Connect(ctx, f, version)
	if err != nil {
		return nil, err
	}
	if err := s.ResolveScope(ctx); err != nil {
		return nil, err
	}
	if s.Scope.Note != "" {
		fmt.Fprintf(stderr, "crashlens: %s\n", s.Scope.Note)
	}
	return s, nil
}

func newListCmd(flags *clusters.Flags, lf *ledgerFlags, stdout, stderr io.Writer) *cobra.Command {
	var output string
	var failOnCrash, watchMode bool
	alerts := alert.Config{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List crash groups without a terminal UI (-o table|wide|json, --watch)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "wide" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want table, wide or json", output)}
			}
			if watchMode && output != "json" {
				return usageError{errors.New("--watch writes JSON lines: use -o json")}
			}
			if alerts.URL != "" && !watchMode {
				return usageError{errors.New("--webhook alerts need --watch")}
			}
			names, err := flags.Contexts()
			if err != nil {
				return err
			}
			if watchMode {
				return runWatch(cmd.Context(), flags, names, lf, alerts, stdout, stderr)
			}
			if names != nil {
				return listFleet(cmd.Context(), flags, names, output, failOnCrash, stdout, stderr)
			}
			s, err := open(cmd.Context(), flags, stderr)
			if err != nil {
				return err
			}
			groups, err := clusters.Snapshot(cmd.Context(), s, flags.Selector, timeoutOr(flags, listSyncTimeout))
			if err != nil {
				return err
			}
			firstErrors := func() map[string]string { return kube.FirstLogErrors(cmd.Context(), s.Client, groups) }
			return printGroups(listOutput{format: output, failOnCrash: failOnCrash, empty: scopeText(s.Scope.Namespace)}, groups, firstErrors, stdout, stderr)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, wide or json")
	cmd.Flags().BoolVar(&failOnCrash, "fail-on-crash", false, "exit 3 when anything is crashing (for scripts)")
	cmd.Flags().BoolVarP(&watchMode, "watch", "w", false, "keep watching; one JSON line per added, changed or resolved group (-o json)")
	cmd.Flags().StringVar(&alerts.URL, "webhook", "", "with --watch: post a Slack-compatible alert to this URL when a group crosses --restart-threshold")
	cmd.Flags().Int32Var(&alerts.RestartThreshold, "restart-threshold", alert.DefaultThreshold, "alert when a group has this many restarts")
	cmd.Flags().StringArrayVar(&alerts.IgnoreNamespaces, "ignore-namespace", nil, "never alert for this namespace (repeatable)")
	cmd.Flags().DurationVar(&alerts.MuteFor, "mute-for", alert.DefaultMuteFor, "after an alert, mute the same group this long")
	return cmd
}

// listOutput is how `crashlens list` prints its groups.
type listOutput struct {
	format      string // table, wide or json
	clusters    bool   // several contexts: the table leads with CLUSTER
	failOnCrash bool
	empty       string // where nothing crashes, for the one line that says so
}

// printGroups prints the groups of `crashlens list`, most urgent first;
// firstErrors (asked only for -o wide) reads each group's first log error.
func printGroups(o listOutput, groups []crash.Group, firstErrors func() map[string]string, stdout, stderr io.Writer) error {
	report.SortByUrgency(groups)
	now := time.Now()
	var err error
	switch o.format {
	case "json":
		err = report.ListJSON(stdout, groups)
	case "wide":
		err = report.Table(stdout, groups, true, o.clusters, firstErrors(), theme.ForTerminal(isTerminal(stdout)), now)
	default:
		if len(groups) == 0 {
			fmt.Fprintf(stderr, "no crashing pods in %s\n", o.empty)
			break
		}
		err = report.Table(stdout, groups, false, o.clusters, nil, theme.ForTerminal(isTerminal(stdout)), now)
	}
	if err != nil {
		return err
	}
	if o.failOnCrash && len(groups) > 0 {
		return exitCodeError{exitCrash}
	}
	return nil
}

func timeoutOr(f *clusters.Flags, def time.Duration) time.Duration {
	if f.Config.Timeout != nil {
		if d, err := time.ParseDuration(*f.Config.Timeout); err == nil && d > 0 {
			return d
		}
	}
	return def
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// watchJSON prints a line per group change until ctx ends, and hands each
// changed group to the alerter when there is one. Changes of the connection
// (reconnecting, relisting, synced again) go to stderr, one line each, so a
// script's reader knows when the stream is stale.
func watchJSON(batches <-chan crash.Batch, fleet bool, stdout, stderr io.Writer, a *alert.Alerter) error {
	view, out := crash.NewView(), report.NewWatchJSON(stdout)
	phases := map[string]string{} // each cluster's last phase
	for b := range batches {
		if b.State.Phase != phases[b.Cluster] {
			which := ""
			if fleet {
				which = sanitize.Line(b.Cluster) + ": "
			}
			fmt.Fprintf(stderr, "crashlens: watch %s%s\n", which, sanitize.Line(b.State.String()))
			phases[b.Cluster] = b.State.Phase
		}
		ch := view.Apply(b)
		if a != nil {
			for _, u := range ch.Upserted {
				a.Observe(u.Group)
			}
		}
		if err := out.Write(b.At, ch); err != nil {
			return err
		}
	}
	return nil
}

// runWatch is `list --watch`: the batches of one cluster, or of a fleet
// when several contexts are selected (names), recorded in the crash ledger
// and, with --webhook, alerted on with the top finding of the group's
// cluster.
func runWatch(ctx context.Context, flags *clusters.Flags, names []string, lf *ledgerFlags, alerts alert.Config, stdout, stderr io.Writer) error {
	openLedger := func() *ledger.Ledger {
		l, err := lf.open(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "crashlens: %s\n", ledgerOff(err))
		}
		return l
	}
	var batches <-chan crash.Batch
	var client func(cluster string) (kubernetes.Interface, *kube.Memo, error)
	if names == nil {
		s, err := open(ctx, flags, stderr)
		if err != nil {
			return err
		}
		w, err := s.Watcher(flags.Selector)
		if err != nil {
			return err
		}
		go w.Run(ctx)
		batches = recordBatches(ctx, s, openLedger(), w.Batches(), stderr)
		memo := kube.NewMemo()
		client = func(string) (kubernetes.Interface, *kube.Memo, error) { return s.Client, memo, nil }
	} else {
		fleet := startFleet(ctx, flags, names, openLedger(), stderr)
		batches, client = fleet.Batches(), fleet.Client
	}
	var a *alert.Alerter
	if alerts.URL != "" {
		alerts.Log = stderr
		alerts.Explain = func(ctx context.Context, g crash.Group) (diagnose.Finding, bool) {
			c, memo, err := client(g.Cluster)
			if err != nil {
				return diagnose.Finding{}, false
			}
			p := g.Pods[0]
			inc, err := kube.Gather(ctx, c, memo, p.Namespace, p.Name, p.Container)
			if err != nil {
				return diagnose.Finding{}, false
			}
			r := diagnose.Diagnose(inc.Input(nil, time.Now()))
			if len(r.Findings) == 0 {
				return diagnose.Finding{}, false
			}
			return r.Findings[0], true
		}
		a = alert.New(alerts)
		go a.Run(ctx)
	}
	return watchJSON(batches, names != nil, stdout, stderr, a)
}

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
				fmt.Fprintf(stderr, "crashlens: no crash history in the report: %v\n", err)
			}
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
