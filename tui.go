package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/crash"

	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/theme"
	"github.com/crashlens/crashlens/ui"
)

// kubeSource feeds the UI from one cluster or a fleet: the watchers'
// batches and the kube package's detail calls, each to the row's cluster.
type kubeSource struct {
	batches <-chan crash.Batch
	// client is the cluster's client and its owner memo; an error while a
	// fleet's cluster is not connected.
	client func(cluster string) (kubernetes.Interface, *kube.Memo, error)
	ledger *ledger.Ledger // nil: no history (--no-ledger, or it could not open)
	off    string         // why there is no ledger
}

func (s kubeSource) Batches() <-chan crash.Batch { return s.batches }

func (s kubeSource) Gather(ctx context.Context, cluster, ns, pod, container string) (crash.Incident, error) {
	c, memo, err := s.client(cluster)
	if err != nil {
		return crash.Incident{}, err
	}
	inc, err := kube.Gather(ctx, c, memo, ns, pod, container)
	inc.Cluster = cluster
	return inc, err
}

func (s kubeSource) Follow(ctx context.Context, cluster, ns, pod, container string, emit func(string)) error {
	c, _, err := s.client(cluster)
	if err != nil {
		return err
	}
	return kube.FollowLog(ctx, c, ns, pod, container, emit)
}

func (s kubeSource) History(ctx context.Context, q ledger.Query) ([]ledger.Crash, error) {
	if s.ledger == nil {
		return nil, errors.New(s.off)
	}
	return s.ledger.History(ctx, q)
}

// runTUI connects, then runs the live TUI on the terminal.
func runTUI(ctx context.Context, flags *clusters.Flags, lf *ledgerFlags, debugImage *string, stderr io.Writer) error {
	names, err := flags.Contexts()
	if err != nil {
		return err
	}
	if names != nil {
		return runFleetTUI(ctx, flags, names, lf, debugImage)
	}
	s, err := open(ctx, flags, stderr)
	if err != nil {
		return err
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("connected to %s, but the live view needs a terminal: in scripts use `crashlens list` or `crashlens explain`", s.Target.Describe())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.Watcher(flags.Selector)
	if err != nil {
		return err
	}
	go w.Run(ctx)
	// Under the TUI a warning on stderr would tear the screen: the ledger's
	// open failure is the list's note, later ones go to the debug log.
	l, err := lf.open(ctx)
	note, off := s.Scope.Note, "no crash history: the ledger is off (--no-ledger)"
	if err != nil {
		off = ledgerOff(err)
		note = crash.JoinNotes(note, off)
	}
	batches := recordBatches(ctx, s, l, w.Batches(), kube.DebugWriter())
	o := uiOptions(flags, debugImage)
	o.Context, o.Scope, o.Note = s.Target.Context, scopeText(s.Scope.Namespace), note
	memo := kube.NewMemo()
	client := func(string) (kubernetes.Interface, *kube.Memo, error) { return s.Client, memo, nil }
	return ui.Run(ctx, kubeSource{batches: batches, client: client, ledger: l, off: off}, o, nil, nil)
}

// uiOptions are the TUI's options the flags decide, for one cluster or a
// fleet.
func uiOptions(flags *clusters.Flags, debugImage *string) ui.Options {
	kubectl, _ := kube.FindKubectl()
	args := kube.KubectlArgs{}
	if flags.Config.KubeConfig != nil {
		args.Kubeconfig = *flags.Config.KubeConfig
	}
	if flags.Config.Context != nil {
		args.Context = *flags.Config.Context
	}
	if flags.Config.Impersonate != nil {
		args.As = *flags.Config.Impersonate
	}
	return ui.Options{Readonly: flags.Readonly, Kubectl: kubectl, Args: args, DebugImage: *debugImage,
		Timeout: timeoutOr(flags, 0), Version: version, Styles: theme.ForTerminal(true)}
}

// runFleetTUI runs the live TUI over several contexts. It starts at once:
// each cluster connects, syncs, fails and retries on its own (clusters.Fleet),
// and its rows appear when they come. A terminal is checked first, as a
// fleet has no single connection to check before.
func runFleetTUI(ctx context.Context, flags *clusters.Flags, names []string, lf *ledgerFlags, debugImage *string) error {
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("%d contexts selected, but the live view needs a terminal: in scripts use `crashlens list`", len(names))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := lf.open(ctx)
	off, note := "no crash history: the ledger is off (--no-ledger)", ""
	if err != nil {
		off = ledgerOff(err)
		note = off
	}
	fleet := startFleet(ctx, flags, names, l, kube.DebugWriter())
	o := uiOptions(flags, debugImage)
	o.Args.Context = "" // each row's own (ui: kubectlArgs)
	o.Clusters, o.Scope, o.Note = names, "each context's scope", note
	return ui.Run(ctx, kubeSource{batches: fleet.Batches(), client: fleet.Client, ledger: l, off: off}, o, nil, nil)
}
