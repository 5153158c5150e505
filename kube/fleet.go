package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
	pipe func(context.Context, *Session, <-chan Batch) <-chan Batch
	now  func() time.Time
	out  chan Batch

	mu       sync.Mutex
	sessions map[string]*Session
	memos    map[string]*Memo // each connected cluster's owner memo
}

// NewFleet prepares a fleet of the named contexts (Flags.Contexts).
func NewFleet(f *Flags, names []string, version string, pipe func(context.Context, *Session, <-chan Batch) <-chan Batch) *Fleet {
	return &Fleet{flags: f, names: names, version: version, selector: f.Selector, pipe: pipe, now: time.Now,
		out: make(chan Batch, len(names)), sessions: map[string]*Session{}, memos: map[string]*Memo{}}
}

// Names are the fleet's contexts, in the order given.
func (f *Fleet) Names() []string { return f.names }

// Batches is every cluster's change stream in one; it is closed when Run
// returns.
func (f *Fleet) Batches() <-chan Batch { return f.out }

// Client is the named cluster's client and owner memo, for the detail
// calls of its rows; an error while it is not connected.
func (f *Fleet) Client(name string) (kubernetes.Interface, *Memo, error) {
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
		f.send(ctx, Batch{Cluster: name, State: ConnState{Phase: PhaseConnecting}, At: f.now()})
		var err error
		if s, err = Connect(ctx, flags, f.version); err == nil {
			if err = s.ResolveScope(ctx); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			return
		}
		state, pause := ConnState{Phase: PhaseReconnecting, Verb: "connect", Err: err.Error()}, wait
		if errors.Is(err, ErrCredentials) {
			state.Phase, pause = PhaseUnauthorized, fleetCredentialRetry
		} else {
			wait = min(2*wait, fleetRetryMax)
		}
		state.Since = f.now()
		f.send(ctx, Batch{Cluster: name, State: state, At: f.now()})
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
	w, err := s.Watcher(f.selector)
	if err != nil {
		f.send(ctx, Batch{Cluster: name, State: ConnState{Phase: PhaseReconnecting, Err: err.Error(), Since: f.now()}, At: f.now()})
		return
	}
	f.mu.Lock()
	f.sessions[name], f.memos[name] = s, NewMemo()
	f.mu.Unlock()
	go w.Run(ctx)
	in := w.Batches()
	if f.pipe != nil {
		in = f.pipe(ctx, s, in)
	}
	for b := range in {
		b.Note = JoinNotes(s.Scope.Note, b.Note)
		if !f.send(ctx, tagBatch(name, b)) {
			return
		}
	}
}

func (f *Fleet) send(ctx context.Context, b Batch) bool {
	select {
	case f.out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// FleetKey makes a group key unique across clusters: the watcher's keys
// are unique within one.
func FleetKey(cluster, key string) string { return cluster + "\x00" + key }

// tagBatch returns b with its cluster and its keys made unique across
// clusters. It copies what it changes: the watcher still reads the batch
// it sent.
func tagBatch(cluster string, b Batch) Batch {
	b.Cluster = cluster
	up := make([]Group, len(b.Upserted))
	for i, g := range b.Upserted {
		g.Key, g.Cluster = FleetKey(cluster, g.Key), cluster
		up[i] = g
	}
	b.Upserted = up
	rm := make([]string, len(b.Removed))
	for i, k := range b.Removed {
		rm[i] = FleetKey(cluster, k)
	}
	b.Removed = rm
	return b
}

// ShortClusterNames names each context as briefly as stays unambiguous:
// the part after the last '/' or ':' (an EKS ARN's cluster/NAME, an
// OpenShift context's user/server), or after the last '_' of a GKE
// context (gke_PROJECT_ZONE_NAME); the whole name where two would read
// the same.
func ShortClusterNames(names []string) map[string]string {
	short := make(map[string]string, len(names))
	seen := map[string]int{}
	for _, n := range names {
		s := n
		if i := strings.LastIndexAny(s, "/:"); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
		if strings.HasPrefix(n, "gke_") && strings.Count(n, "_") >= 3 {
			s = n[strings.LastIndexByte(n, '_')+1:]
		}
		short[n] = s
		seen[s]++
	}
	for _, n := range names {
		if seen[short[n]] > 1 || slices.Contains(names, short[n]) && short[n] != n {
			short[n] = n
		}
	}
	return short
}

// JoinNotes joins the non-empty notes of a status line with " · ".
func JoinNotes(notes ...string) string {
	var kept []string
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, " · ")
}
