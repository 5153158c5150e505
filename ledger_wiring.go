package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
)

// ledgerFlags choose the crash ledger's file, or none.
type ledgerFlags struct {
	path string
	off  bool
}

func (f *ledgerFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.path, "ledger", "", "crash ledger file (default $XDG_STATE_HOME/crashlens/ledger.db); it holds log tails, which may hold secrets")
	fs.BoolVar(&f.off, "no-ledger", false, "do not record crashes in the ledger")
}

// open opens the ledger: nil and no error with --no-ledger. A ledger that
// cannot open is an error the caller reports in one line (ledgerOff) and
// runs on without: it only loses history.
func (f *ledgerFlags) open(ctx context.Context) (*ledger.Ledger, error) {
	if f.off {
		return nil, nil
	}
	path := f.path
	if path == "" {
		p, err := ledger.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return ledger.Open(ctx, path, ledger.Options{})
}

// ledgerOff is the one line that says why crashes are not recorded.
func ledgerOff(err error) string { return "crash ledger off: " + err.Error() }

// recordBatches starts recording the session's crashes into l (when there
// is one) and returns the batches to consume, passed through unchanged.
func recordBatches(ctx context.Context, s *kube.Session, l *ledger.Ledger, in <-chan kube.Batch, warn io.Writer) <-chan kube.Batch {
	if l == nil {
		return in
	}
	rec := kube.NewRecorder(s.Client, l, s.Target, warn)
	go func() {
		rec.Run(ctx)
		l.Close() // after the last capture
	}()
	return rec.Pass(ctx, in)
}
