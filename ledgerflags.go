package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/spf13/pflag"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// ledgerFlags choose the crash ledger's file, or none.
type ledgerFlags struct {
	path   string
	off    bool
	maxAge time.Duration
	maxMB  int
}

func (f *ledgerFlags) add(set *pflag.FlagSet) {
	set.StringVar(&f.path, "ledger", "", "crash ledger file (default $XDG_STATE_HOME/crashlens/ledger.db); it holds log tails, which may hold secrets")
	set.BoolVar(&f.off, "no-ledger", false, "do not record crashes in the ledger (CAUSE is still refined from each crash's captured log and events)")
	set.DurationVar(&f.maxAge, "ledger-max-age", ledger.DefaultMaxAge, "the ledger forgets crashes older than this")
	set.IntVar(&f.maxMB, "ledger-max-size", ledger.DefaultMaxBytes>>20, "the ledger drops its oldest crashes past this many MB")
}

// open opens the ledger: nil and no error with --no-ledger. A ledger that
// cannot open is an error the caller reports in one line (ledgerOff) and
// runs on without: it only loses history.
func (f *ledgerFlags) open(ctx context.Context) (*ledger.Ledger, error) {
	if f.off {
		return nil, nil
	}
	path, err := f.file()
	if err != nil {
		return nil, err
	}
	return ledger.Open(ctx, path, f.options())
}

// file is --ledger, or the default in the user's state directory.
func (f *ledgerFlags) file() (string, error) {
	if f.path != "" {
		return f.path, nil
	}
	return ledger.DefaultPath()
}

func (f *ledgerFlags) options() ledger.Options {
	return ledger.Options{MaxAge: f.maxAge, MaxBytes: int64(f.maxMB) << 20}
}

// workloadHistory is the ledger's rows of the pod's workload and container
// in the context, newest first: nil with --no-ledger or when no ledger file
// exists yet (reading never creates one).
func (f *ledgerFlags) workloadHistory(ctx context.Context, kubeContext string, pod *corev1.Pod, container string) ([]ledger.Crash, error) {
	if f.off {
		return nil, nil
	}
	path, err := f.file()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	l, err := ledger.Open(ctx, path, f.options())
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.History(ctx, ledger.Query{Context: kubeContext, Namespace: pod.Namespace, Workload: diagnose.ResolveOwner(pod),
		Container: container, Limit: 1000})
}

// ledgerOffFlag is why there is no history with --no-ledger.
const ledgerOffFlag = "no crash history: the ledger is off (--no-ledger)"

// ledgerOff is the one line that says why crashes are not recorded.
func ledgerOff(err error) string { return "crash ledger off: " + err.Error() }
