package capture

import (
	"context"
	"io"
	"sync"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
)

// Options say where the captures go.
type Options struct {
	Ledger *ledger.Ledger // nil: CAUSE is refined, nothing is recorded
	// Warn gets one line per lasting problem: the debug log under a TUI,
	// stderr for list --watch and the monitor.
	Warn  io.Writer
	Hooks Hooks
}

// Start runs the fleet (of one or many, clusters.Open) with every
// cluster's crashes captured as it connects: CAUSE is refined from each
// capture (Pass) whether or not there is a ledger, and the captures are
// recorded into o.Ledger when there is one. It runs until ctx ends; the
// ledger, when given, is closed after the fleet and its last capture end.
func Start(ctx context.Context, fleet *clusters.Fleet, o Options) {
	l := o.Ledger
	var running sync.WaitGroup // the fleet and each cluster's recorder
	pipe := func(ctx context.Context, s *clusters.Session, in <-chan crash.Batch) <-chan crash.Batch {
		rec := NewRecorder(s.CaptureClient(), l, s.Target, o.Warn)
		rec.SetHooks(o.Hooks)
		running.Add(1) // inside the fleet's Run, which holds the group open
		go func() {
			defer running.Done()
			rec.Run(ctx)
		}()
		return rec.Pass(ctx, in)
	}
	running.Add(1)
	go func() {
		fleet.Run(ctx, pipe)
		running.Done()
	}()
	go func() {
		running.Wait()
		if l != nil {
			l.Close()
		}
	}()
}
