package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/theme"
	"github.com/crashlens/crashlens/ui"
)

// tuiOptions are the flags of the live TUI (the root command).
type tuiOptions struct {
	flags      *clusters.Flags
	ledger     *ledgerFlags
	debugImage string
}

// runTUI runs the live TUI on the terminal over what the flags select:
// one context, connected first so an unreachable cluster is one line, or
// several, which connect, sync, fail and retry on their own while their
// rows appear.
func runTUI(ctx context.Context, o tuiOptions, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fleet, err := clusters.Open(ctx, o.flags, version)
	if err != nil {
		return err
	}
	uo := uiOptions(o)
	if s := fleet.Single(); s != nil {
		if s.Scope.Note != "" {
			fmt.Fprintf(stderr, "crashlens: %s\n", s.Scope.Note)
		}
		if !hasTerminal() {
			return fmt.Errorf("connected to %s, but the live view needs a terminal: in scripts use `crashlens list` or `crashlens explain`", s.Target.Describe())
		}
		uo.Context, uo.Scope, uo.Note = s.Target.Context, scopeText(s.Scope.Namespace), s.Scope.Note
	} else {
		if !hasTerminal() {
			return fmt.Errorf("%d contexts selected, but the live view needs a terminal: in scripts use `crashlens list`", len(fleet.Names()))
		}
		uo.Args.Context = "" // each row's own (ui: kubectlArgs)
		uo.Clusters, uo.Scope = fleet.Names(), "each context's scope"
	}
	// Under the TUI a warning on stderr would tear the screen: the ledger's
	// open failure is the list's note, later ones go to the debug log.
	l, err := o.ledger.open(ctx)
	off := ledgerOffFlag
	if err != nil {
		off = ledgerOff(err)
		uo.Note = crash.JoinNotes(uo.Note, off)
	}
	capture.Start(ctx, fleet, capture.Options{Ledger: l, Warn: kube.DebugWriter()})
	return ui.Run(ctx, kubeSource{fleet: fleet, ledger: l, off: off, remote: capture.NewRemote()}, uo, nil, nil)
}

func hasTerminal() bool {
	return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

// uiOptions are the TUI's options the flags decide.
func uiOptions(o tuiOptions) ui.Options {
	kubectl, _ := kube.FindKubectl()
	args := kube.KubectlArgs{}
	cfg := o.flags.Config
	if cfg.KubeConfig != nil {
		args.Kubeconfig = *cfg.KubeConfig
	}
	if cfg.Context != nil {
		args.Context = *cfg.Context
	}
	if cfg.Impersonate != nil {
		args.As = *cfg.Impersonate
	}
	return ui.Options{Readonly: o.flags.Readonly, Kubectl: kubectl, Args: args, DebugImage: o.debugImage,
		Timeout: o.flags.TimeoutOr(0), Version: version, Styles: theme.ForTerminal(true)}
}

// kubeSource feeds the UI from the fleet (of one or many): its batches,
// and the kube package's detail calls, each to the row's own cluster.
type kubeSource struct {
	fleet  *clusters.Fleet
	ledger *ledger.Ledger // nil: no local history (--no-ledger, or it could not open)
	off    string         // why there is no local ledger
	remote *capture.Remote
}

func (s kubeSource) Batches() <-chan crash.Batch { return s.fleet.Batches() }

func (s kubeSource) Gather(ctx context.Context, cluster, ns, pod, container string) (crash.Incident, error) {
	c, memo, err := s.fleet.Client(cluster)
	if err != nil {
		return crash.Incident{}, err
	}
	inc, err := kube.Gather(ctx, c, memo, ns, pod, container)
	inc.Cluster = cluster
	return inc, err
}

func (s kubeSource) Follow(ctx context.Context, cluster, ns, pod, container string, emit func(string)) error {
	c, _, err := s.fleet.Client(cluster)
	if err != nil {
		return err
	}
	return kube.FollowLog(ctx, c, ns, pod, container, emit)
}

// History is the row's cluster's crash history: the local ledger's rows
// and its in-cluster recorder's, merged (capture.Merged).
func (s kubeSource) History(ctx context.Context, q ledger.Query) ([]ledger.Crash, string, error) {
	local, localErr := []ledger.Crash(nil), errors.New(s.off)
	if s.ledger != nil {
		local, localErr = s.ledger.History(ctx, q)
	}
	var remote []ledger.Crash
	c, _, remoteErr := s.fleet.Client(q.Context)
	if remoteErr == nil {
		remote, remoteErr = s.remote.History(ctx, q.Context, c, q)
	}
	rows, source := capture.Merged(local, localErr, remote, remoteErr, q.Limit)
	if len(rows) == 0 && localErr != nil && remoteErr != nil {
		return nil, source, localErr
	}
	return rows, source, nil
}
