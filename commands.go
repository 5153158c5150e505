package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/alert"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/lint"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// listSyncTimeout bounds how long `list` waits for the first full view
// when no --request-timeout is set.
const listSyncTimeout = 60 * time.Second

// session is a connected, scoped client.
type session struct {
	client kubernetes.Interface
	target kube.Target
	scope  kube.Scope
}

// open connects, checks the server answers, and resolves what the user may
// watch (saying so on stderr when it falls back to one namespace).
func open(ctx context.Context, f *kube.Flags, stderr io.Writer) (session, error) {
	c, t, err := connect(ctx, f)
	if err != nil {
		return session{}, err
	}
	scope, err := kube.ResolveScope(ctx, c, t)
	if err != nil {
		return session{}, fmt.Errorf("%s: %v", t.Describe(), err)
	}
	if scope.Note != "" {
		fmt.Fprintf(stderr, "crashlens: %s\n", scope.Note)
	}
	return session{client: c, target: t, scope: scope}, nil
}

// snapshot runs the watcher until its first full view and returns it.
func snapshot(ctx context.Context, s session, selector string, timeout time.Duration) ([]kube.Group, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w := kube.NewWatcher(s.client, s.scope.Namespace, selector)
	go w.Run(ctx)
	view := map[string]kube.Group{}
	for b := range w.Batches() {
		for _, k := range b.Removed {
			delete(view, k)
		}
		for _, g := range b.Upserted {
			view[g.Key] = g
		}
		switch b.State.Phase {
		case kube.PhaseSynced:
			groups := make([]kube.Group, 0, len(view))
			for _, g := range view {
				groups = append(groups, g)
			}
			report.SortByUrgency(groups)
			return groups, nil
		case kube.PhaseForbidden:
			return nil, fmt.Errorf("%s: %s", s.target.Describe(), b.State)
		}
	}
	return nil, fmt.Errorf("%s: no full pod list within %s", s.target.Describe(), timeout)
}

func newListCmd(flags *kube.Flags, stdout, stderr io.Writer) *cobra.Command {
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
			s, err := open(cmd.Context(), flags, stderr)
			if err != nil {
				return err
			}
			if watchMode {
				var a *alert.Alerter
				if alerts.URL != "" {
					alerts.Log = stderr
					memo := kube.NewMemo()
					alerts.Explain = func(ctx context.Context, g kube.Group) (diagnose.Finding, bool) {
						p := g.Pods[0]
						inc, err := kube.Gather(ctx, s.client, memo, p.Namespace, p.Name, p.Container)
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
					go a.Run(cmd.Context())
				}
				return watchJSON(cmd.Context(), s, flags.Selector, stdout, stderr, a)
			}
			groups, err := snapshot(cmd.Context(), s, flags.Selector, timeoutOr(flags, listSyncTimeout))
			if err != nil {
				return err
			}
			now := time.Now()
			switch output {
			case "json":
				err = report.ListJSON(stdout, groups)
			case "wide":
				err = report.Table(stdout, groups, true, firstLogErrors(cmd.Context(), s, groups), theme.ForTerminal(isTerminal(stdout)), now)
			default:
				if len(groups) == 0 {
					fmt.Fprintf(stderr, "no crashing pods in %s\n", scopeText(kube.Target{Namespace: s.scope.Namespace}))
					break
				}
				err = report.Table(stdout, groups, false, nil, theme.ForTerminal(isTerminal(stdout)), now)
			}
			if err != nil {
				return err
			}
			if failOnCrash && len(groups) > 0 {
				return exitCodeError{exitCrash}
			}
			return nil
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

func timeoutOr(f *kube.Flags, def time.Duration) time.Duration {
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

// firstLogErrors reads the newest pod's previous log of each group and
// returns its first error line; groups whose log cannot be read are left out.
func firstLogErrors(ctx context.Context, s session, groups []kube.Group) map[string]string {
	out := map[string]string{}
	for _, g := range groups {
		p := g.Pods[0]
		log, err := kube.PreviousLog(ctx, s.client, p.Namespace, p.Name, p.Container)
		if err != nil {
			continue
		}
		if sum := diagnose.ClassifyLog(strings.NewReader(log)); sum.FirstError != nil {
			out[g.Key] = sum.FirstError.Text
		}
	}
	return out
}

// watchLine is one line of `list --watch -o json`.
type watchLine struct {
	Time  time.Time        `json:"time"`
	Event string           `json:"event"` // added, changed, resolved
	Group report.GroupJSON `json:"group"`
}

// watchJSON prints a line per group change until ctx ends, and hands each
// changed group to the alerter when there is one. Changes of the connection
// (reconnecting, relisting, synced again) go to stderr, one line each, so a
// script's reader knows when the stream is stale.
func watchJSON(ctx context.Context, s session, selector string, stdout, stderr io.Writer, a *alert.Alerter) error {
	w := kube.NewWatcher(s.client, s.scope.Namespace, selector)
	go w.Run(ctx)
	enc := json.NewEncoder(stdout)
	seen := map[string]report.GroupJSON{}
	var state kube.ConnState
	for b := range w.Batches() {
		if b.State.Phase != state.Phase {
			fmt.Fprintf(stderr, "crashlens: watch %s\n", sanitize.Line(b.State.String()))
			state = b.State
		}
		for _, k := range b.Removed {
			if g, ok := seen[k]; ok {
				delete(seen, k)
				if err := enc.Encode(watchLine{Time: b.At, Event: "resolved", Group: g}); err != nil {
					return err
				}
			}
		}
		for _, g := range b.Upserted {
			if a != nil {
				a.Observe(g)
			}
			j := report.ToJSON(g)
			old, ok := seen[g.Key]
			seen[g.Key] = j
			event := "added"
			if ok {
				if !changed(old, j) {
					continue
				}
				event = "changed"
			}
			if err := enc.Encode(watchLine{Time: b.At, Event: event, Group: j}); err != nil {
				return err
			}
		}
	}
	return nil
}

// changed ignores churn that is not news (the kubelet flipping a container
// between waiting and terminated): restarts, pods or state must move.
func changed(a, b report.GroupJSON) bool {
	return a.Restarts != b.Restarts || len(a.Pods) != len(b.Pods) || a.State != b.State
}

func newExplainCmd(flags *kube.Flags, stdout io.Writer) *cobra.Command {
	var output, container, templateFile string
	cmd := &cobra.Command{
		Use:   "explain NS/POD | POD | deploy/NAME",
		Short: "Explain one pod's crash as Markdown or JSON",
		Long: `explain gathers what the detail screen shows for one pod (events of the pod and
its owners, previous and current logs, the exit code in context, the back-off
timeline, the probe diff and patch) and writes it as a report. deploy/NAME
picks the Deployment's newest crashing pod.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "markdown" && output != "json" {
				return usageError{fmt.Errorf("-o %q: want markdown or json", output)}
			}
			var tmpl *diagnose.Template
			if templateFile != "" {
				b, err := os.ReadFile(templateFile)
				if err != nil {
					return err
				}
				if tmpl, err = diagnose.LoadTemplate(b); err != nil {
					return fmt.Errorf("%s: %v", templateFile, err)
				}
			}
			ctx := cmd.Context()
			c, t, err := connect(ctx, flags)
			if err != nil {
				return err
			}
			ns, name, err := kube.ResolvePod(ctx, c, args[0], t.ContextNamespace)
			if err != nil {
				return err
			}
			inc, err := kube.Gather(ctx, c, nil, ns, name, container)
			if err != nil {
				return err
			}
			now := time.Now()
			r := diagnose.Diagnose(inc.Input(tmpl, now))
			if output == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(explainJSON(inc, r))
			}
			return report.Markdown(stdout, inc, r, now, version)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "markdown", "markdown or json")
	cmd.Flags().StringVarP(&container, "container", "c", "", "container to explain (default: the failing one)")
	cmd.Flags().StringVar(&templateFile, "probe-template", "", "YAML file with your team's recommended probes")
	return cmd
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// explainJSON is `explain -o json`: the pod's identity, the diagnose.Report,
// and why any part is missing.
func explainJSON(inc kube.Incident, r diagnose.Report) map[string]any {
	return map[string]any{
		"apiVersion": "crashlens/v1", "kind": "Explanation",
		"pod":    map[string]any{"namespace": inc.Pod.Namespace, "name": inc.Pod.Name, "uid": inc.Pod.UID, "container": inc.Container, "node": inc.Pod.Spec.NodeName},
		"report": r,
		"errors": map[string]string{"owners": errText(inc.OwnersErr), "events": errText(inc.EventsErr),
			"previousLog": errText(inc.PreviousLogErr), "currentLog": errText(inc.CurrentLogErr), "usage": errText(inc.UsageErr)},
	}
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
			var l lint.Linter
			if templateFile != "" {
				b, err := os.ReadFile(templateFile)
				if err != nil {
					return err
				}
				if l.Template, err = diagnose.LoadTemplate(b); err != nil {
					return fmt.Errorf("%s: %v", templateFile, err)
				}
			}
			rs, err := l.Paths(files, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if rs == nil {
					rs = []lint.Result{}
				}
				err = enc.Encode(rs)
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
