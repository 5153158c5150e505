package capture

import (
	"context"
	"io"
	"sync"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
)

// Start runs the fleet (of one or many, clusters.Open) with every
// cluster's crashes captured as it connects: CAUSE is refined from each
// capture (Pass) whether or not there is a ledger, and the captures are
// recorded into l when there is one. It runs until ctx ends; l, when
// given, is closed after the fleet and its last capture end. Warnings go
// to warn (the debug log under a TUI, stderr for list --watch).
func Start(ctx context.Context, fleet *clusters.Fleet, l *ledger.Ledger, warn io.Writer) {
	var running sync.WaitGroup // the fleet and each cluster's recorder
	pipe := func(ctx context.Context, s *clusters.Session, in <-chan crash.Batch) <-chan crash.Batch {
		rec := NewRecorder(s.CaptureClient(), l, s.Target, warn)
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
