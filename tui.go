package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/theme"
	"github.com/crashlens/crashlens/ui"
)

// kubeSource feeds the UI from a cluster: the watcher's batches and the
// kube package's detail calls.
type kubeSource struct {
	batches <-chan kube.Batch
	c       kubernetes.Interface
	memo    *kube.Memo
	ledger  *ledger.Ledger // nil: no history (--no-ledger, or it could not open)
	off     string         // why there is no ledger
}

func (s kubeSource) Batches() <-chan kube.Batch { return s.batches }

func (s kubeSource) Gather(ctx context.Context, ns, pod, container string) (kube.Incident, error) {
	return kube.Gather(ctx, s.c, s.memo, ns, pod, container)
}

func (s kubeSource) Follow(ctx context.Context, ns, pod, container string, emit func(string)) error {
	return kube.FollowLog(ctx, s.c, ns, pod, container, emit)
}

func (s kubeSource) History(ctx context.Context, q ledger.Query) ([]ledger.Crash, error) {
	if s.ledger == nil {
		return nil, errors.New(s.off)
	}
	return s.ledger.History(ctx, q)
}

// runTUI connects, then runs the live TUI on the terminal.
func runTUI(ctx context.Context, flags *kube.Flags, lf *ledgerFlags, debugImage *string, stderr io.Writer) error {
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
		note = strings.TrimPrefix(note+" · "+off, " · ")
	}
	batches := recordBatches(ctx, s, l, w.Batches(), kube.DebugWriter())
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
	o := ui.Options{
		Context: s.Target.Context, Scope: scopeText(s.Scope.Namespace), Note: note,
		Readonly: flags.Readonly, Kubectl: kubectl, Args: args, DebugImage: *debugImage,
		Timeout: timeoutOr(flags, 0), Version: version, Styles: theme.ForTerminal(true),
	}
	return ui.Run(ctx, kubeSource{batches: batches, c: s.Client, memo: kube.NewMemo(), ledger: l, off: off}, o, nil, nil)
}
