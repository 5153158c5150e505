package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"

	"k8s.io/client-go/kubernetes"
)

// Retry timing of a fleet's connections, in one place. A cluster that is
// down is tried again with a doubling wait; one that rejected the
// credentials is tried rarely (a token refreshed by hand shows up within
// minutes), never in a loop.
const (
	fleetRetryFirst      = time.Second
	fleetRetryMax        = 30 * time.Second
	fleetCredentialRetry = 5 * time.Minute
)

// Fleet watches several kubeconfig contexts in one run: each has its own
// client, scope, watcher and connection state, and connects, fails and
// retries on its own, so a cluster that is down, slow or forbidden never
// holds up the others. Their batches come out of one channel, each tagged
// with its cluster and with group keys made unique across clusters.
type Fleet struct {
	flags    *Flags
	names    []string
	version  string
	selector string
	// pipe passes a connected cluster's batches through what the command
	// adds (the crash ledger's recorder); nil passes them unchanged.
	pipe func(context.Context, *Session, <-chan crash.Batch) <-chan crash.Batch
	now  func() time.Time
	out  chan crash.Batch

	mu       sync.Mutex
	sessions map[string]*Session
	memos    map[string]*kube.Memo // each connected cluster's owner memo
}

// NewFleet prepares a fleet of the named contexts (Flags.Contexts).
func NewFleet(f *Flags, names []string, version string, pipe func(context.Context, *Session, <-chan crash.Batch) <-chan crash.Batch) *Fleet {
	return &Fleet{flags: f, names: names, version: version, selector: f.Selector, pipe: pipe, now: time.Now,
		out: make(chan crash.Batch, len(names)), sessions: map[string]*Session{}, memos: map[string]*kube.Memo{}}
}

// Names are the fleet's contexts, in the order given.
func (f *Fleet) Names() []string { return f.names }

// Batches is every cluster's change stream in one; it is closed when Run
// returns.
func (f *Fleet) Batches() <-chan crash.Batch { return f.out }

// Client is the named cluster's client and owner memo, for the detail
// calls of its rows; an error while it is not connected.
func (f *Fleet) Client(name string) (kubernetes.Interface, *kube.Memo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[name]
	if s == nil {
		return nil, nil, fmt.Errorf("cluster %s is not connected yet", name)
	}
	return s.Client, f.memos[name], nil
}

// Run connects and watches every cluster until ctx is done.
func (f *Fleet) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range f.names {
		wg.Go(func() { f.runCluster(ctx, name) })
	}
	wg.Wait()
	close(f.out)
}

// runCluster connects one cluster, retrying while it fails, then forwards
// its watcher's batches.
func (f *Fleet) runCluster(ctx context.Context, name string) {
	flags := f.flags.ForContext(name)
	wait := fleetRetryFirst
	var s *Session
	for {
		f.send(ctx, crash.Batch{Cluster: name, State: crash.ConnState{Phase: crash.PhaseConnecting}, At: f.now()})
		var err error
		if s, err = Connect(ctx, flags, f.version); err == nil {
			if err = s.ResolveScope(ctx); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			return
		}
		state, pause := crash.ConnState{Phase: crash.PhaseReconnecting, Verb: "connect", Err: err.Error()}, wait
		if errors.Is(err, ErrCredentials) {
			state.Phase, pause = crash.PhaseUnauthorized, fleetCredentialRetry
		} else {
			wait = min(2*wait, fleetRetryMax)
		}
		state.Since = f.now()
		f.send(ctx, crash.Batch{Cluster: name, State: state, At: f.now()})
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
	w, err := s.Watcher(f.selector)
	if err != nil {
		f.send(ctx, crash.Batch{Cluster: name, State: crash.ConnState{Phase: crash.PhaseReconnecting, Err: err.Error(), Since: f.now()}, At: f.now()})
		return
	}
	f.mu.Lock()
	f.sessions[name], f.memos[name] = s, kube.NewMemo()
	f.mu.Unlock()
	go w.Run(ctx)
	in := w.Batches()
	if f.pipe != nil {
		in = f.pipe(ctx, s, in)
	}
	for b := range in {
		b.Note = crash.JoinNotes(s.Scope.Note, b.Note)
		if !f.send(ctx, crash.TagBatch(name, b)) {
			return
		}
	}
}

func (f *Fleet) send(ctx context.Context, b crash.Batch) bool {
	select {
	case f.out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}
