package main

import (
	"context"
	"fmt"
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

// open opens the ledger, or says in one line why there is none: a broken
// ledger never stops crashlens, it only loses history.
func (f *ledgerFlags) open(ctx context.Context) (*ledger.Ledger, string) {
	if f.off {
		return nil, ""
	}
	path := f.path
	if path == "" {
		p, err := ledger.DefaultPath()
		if err != nil {
			return nil, "crash ledger off: " + err.Error()
		}
		path = p
	}
	l, err := ledger.Open(ctx, path, ledger.Options{})
	if err != nil {
		return nil, "crash ledger off: " + err.Error()
	}
	return l, ""
}

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
	out := make(chan kube.Batch, 1)
	go func() {
		defer close(out)
		for b := range in {
			rec.Observe(b)
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// warnf writes a one-line warning when there is one.
func warnf(w io.Writer, line string) {
	if line != "" {
		fmt.Fprintf(w, "crashlens: %s\n", line)
	}
}
