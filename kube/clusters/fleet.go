package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crashlens/crashlens/diagnose"
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

// Fleet watches the kubeconfig contexts of one run: one context is a fleet
// of one (Open). Each has its own client, scope, watcher and connection
// state, and connects, fails and retries on its own, so a cluster that is
// down, slow or forbidden never holds up the others. Their batches come
// out of one channel, each tagged with its cluster; with several clusters
// the group keys are made unique across them (crash.TagBatch).
type Fleet struct {
	flags    *Flags
	names    []string
	version  string
	selector string
	pipe     Pipe // set by Run
	// single is the one context's session when the flags selected one:
	// Open connected it, so its connection error was the command's, and
	// its scope note was said then (Single).
	single *Session
	now    func() time.Time
	out    chan crash.Batch

	mu       sync.Mutex
	sessions map[string]*Session
	memos    map[string]*kube.Memo // each connected cluster's owner memo
}

// Pipe passes a connected cluster's batches through what the command adds
// (the crash capture, kube/capture); nil passes them unchanged.
type Pipe func(context.Context, *Session, <-chan crash.Batch) <-chan crash.Batch

// NewFleet prepares a fleet of the named contexts (Flags.Contexts), none
// connected yet.
func NewFleet(f *Flags, names []string, version string) *Fleet {
	return &Fleet{flags: f, names: names, version: version, selector: f.Selector, now: time.Now,
		out: make(chan crash.Batch, len(names)), sessions: map[string]*Session{}, memos: map[string]*kube.Memo{}}
}

// Open prepares what the flags select: several contexts (Flags.Contexts)
// as a fleet that connects in the background, or the one context as a
// fleet of one, connected and its scope resolved before Open returns, so
// that a cluster that does not answer is the command's one-line error, as
// it always was for one cluster. Run starts the stream.
func Open(ctx context.Context, f *Flags, version string) (*Fleet, error) {
	names, err := f.Contexts()
	if err != nil {
		return nil, err
	}
	if names != nil {
		return NewFleet(f, names, version), nil
	}
	s, err := Connect(ctx, f, version)
	if err != nil {
		return nil, err
	}
	if err := s.ResolveScope(ctx); err != nil {
		return nil, err
	}
	fl := NewFleet(f, []string{s.Target.Context}, version)
	fl.single, fl.sessions[s.Target.Context], fl.memos[s.Target.Context] = s, s, kube.NewMemo()
	return fl, nil
}

// Single is the session of the one context the flags selected (Open), nil
// when they selected several. Its scope note (Scope.Note) is not repeated
// on the batches: the caller says it once, where one cluster's note goes.
func (f *Fleet) Single() *Session { return f.single }

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

// Run connects and watches every cluster until ctx is done, each
// connected cluster's batches passed through pipe (nil: unchanged).
func (f *Fleet) Run(ctx context.Context, pipe Pipe) {
	f.pipe = pipe
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
	s := f.single
	for s == nil {
		f.send(ctx, crash.Batch{Cluster: name, State: crash.ConnState{Phase: crash.PhaseConnecting}, At: f.now()})
		c, err := Connect(ctx, flags, f.version)
		if err == nil {
			if err = c.ResolveScope(ctx); err == nil {
				s = c
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
	f.sessions[name] = s
	if f.memos[name] == nil {
		f.memos[name] = kube.NewMemo()
	}
	f.mu.Unlock()
	go w.Run(ctx)
	in := w.Batches()
	if f.pipe != nil {
		in = f.pipe(ctx, s, in)
	}
	for b := range in {
		if f.single == nil {
			b = crash.TagBatch(name, b)
			b.Note = crash.JoinNotes(s.Scope.Note, b.Note)
		}
		if !f.send(ctx, b) {
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

// TopFinding gathers the group's newest pod from its own cluster and
// returns the rulebook's top finding, for an alert that says why; false
// when the cluster is not connected, the pod cannot be read or nothing is
// found.
func (f *Fleet) TopFinding(ctx context.Context, g crash.Group) (diagnose.Finding, bool) {
	c, memo, err := f.Client(g.Cluster)
	if err != nil || len(g.Pods) == 0 {
		return diagnose.Finding{}, false
	}
	p := g.Pods[0]
	inc, err := kube.Gather(ctx, c, memo, p.Namespace, p.Name, p.Container)
	if err != nil {
		return diagnose.Finding{}, false
	}
	r := diagnose.Diagnose(inc.Input(nil, f.now()))
	if len(r.Findings) == 0 {
		return diagnose.Finding{}, false
	}
	return r.Findings[0], true
}
