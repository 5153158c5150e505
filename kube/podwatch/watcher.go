package podwatch

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/crashlens/crashlens/diagnose"
)

// Timing of the change stream, in one place.
const (
	// BatchInterval: changes are delivered at most this often, never one
	// message per informer event.
	BatchInterval = 100 * time.Millisecond
	// clockCheck: the longest the watcher's clock sleeps while a time-based
	// state (restarted recently, stuck creating) waits to flip, in case the
	// wall clock jumped. It wakes at each flip, and not at all when none
	// waits.
	clockCheck = time.Minute
)

// podFieldSelector drops pods that finished well: a busy cluster's Jobs
// leave many succeeded pods, and none of them can fail again. Failed pods
// stay: a Job's attempt that failed, or a bare pod that ended in failure, is
// the incident itself although nothing restarts it (the rulebook counts it
// for a day after it ended, diagnose.endedWindow); they are few, since the
// Job controller stops at backoffLimit.
const podFieldSelector = "status.phase!=Succeeded"

// Watcher watches pods and delivers crash groups in batches.
type Watcher struct {
	source    podSource
	cluster   string // stamped on every group
	namespace string
	selector  string
	now       func() time.Time
	out       chan crash.Batch
	// wake says a change is waiting (kick): the batch timer runs only
	// then, so an idle watcher does not wake ten times a second.
	wake chan struct{}
	// retime says a time-based state flips sooner than the clock was set
	// for (flip).
	retime chan struct{}
	// flush says a (re)list was just reconciled: its batch goes now, not
	// up to BatchInterval later, since the list's end is what a syncing
	// view waits for.
	flush chan struct{}

	mu       sync.Mutex
	pods     map[string]*entry          // "ns/name" -> nil for a healthy pod
	members  map[string]map[string]bool // group key -> pod keys
	groupOf  map[string]string          // pod key -> group key it is in
	dirty    map[string]bool
	counts   bool
	state    crash.ConnState
	stateNew bool
	synced   bool            // a full list was reconciled once
	gcHeld   bool            // this watcher holds the first sync's GOGC (syncgc.go)
	timed    map[string]bool // pods whose entry flips with the clock alone
	flip     time.Time       // the soonest of their flips; zero when none
	lastSent map[string]bool // group keys the consumer has
}

// NewWatcher watches pods in namespace ("" for all) matching selector,
// through a clientset that decodes every pod whole (see NewSlimWatcher).
func NewWatcher(client kubernetes.Interface, namespace, selector string) *Watcher {
	return newWatcher(typedPods{client}, namespace, selector)
}

// NewSlimWatcher is NewWatcher through a client built from cfg that
// decodes only what the rulebook reads of each pod (slimpod.go): the one
// every command uses.
func NewSlimWatcher(cfg *rest.Config, namespace, selector string) (*Watcher, error) {
	pods, err := newSlimPods(cfg)
	if err != nil {
		return nil, err
	}
	return newWatcher(pods, namespace, selector), nil
}

func newWatcher(pods podSource, namespace, selector string) *Watcher {
	return &Watcher{source: pods, namespace: namespace, selector: selector, now: time.Now,
		out: make(chan crash.Batch, 1), wake: make(chan struct{}, 1), retime: make(chan struct{}, 1), flush: make(chan struct{}, 1), pods: map[string]*entry{}, members: map[string]map[string]bool{},
		groupOf: map[string]string{}, dirty: map[string]bool{}, timed: map[string]bool{}, lastSent: map[string]bool{},
		state: crash.ConnState{Phase: crash.PhaseSyncing, Since: time.Now()}, stateNew: true}
}

// SetCluster names the kubeconfig context the watcher watches: it is
// stamped on every group and batch (crash.Group.Cluster). Call it before Run.
func (w *Watcher) SetCluster(name string) { w.cluster = name }

// Batches is the change stream; it is closed when Run returns.
func (w *Watcher) Batches() <-chan crash.Batch { return w.out }

// Run watches until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	defer close(w.out)
	w.holdSyncGC()
	defer w.releaseSyncGC() // when it ends before its first sync
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			ctx = kube.ObserveAttempts(ctx, func(err error) {
				if err != nil {
					w.failed("list", err)
				}
			})
			w.listing()
			opts.FieldSelector, opts.LabelSelector = podFieldSelector, w.selector
			l, err := w.source.List(ctx, w.namespace, opts, w.upsertPod)
			if err != nil {
				w.failed("list", err)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			var lastErr error
			ctx = kube.ObserveAttempts(ctx, func(err error) {
				if lastErr = err; err != nil {
					w.failed("watch", err)
				}
			})
			opts.FieldSelector, opts.LabelSelector = podFieldSelector, w.selector
			wi, err := w.source.Watch(ctx, w.namespace, opts)
			if err != nil {
				w.failed("watch", err)
				return nil, err
			}
			if lastErr != nil {
				// client-go turns a connection that failed every retry into
				// an empty watch and no error: still reconnecting.
				return wi, nil
			}
			w.watching()
			return newErrorLoggingWatch(wi), nil
		},
	}
	// No expected type: a list gives the reflector stubs, not pods
	// (podSource.List). And no watch-list: its initial events come as one
	// watch event per pod, and at 50,000 pods the full view came 1.37x
	// the LIST's time that way against 0.7-0.9x with the streamed LIST
	// (kube/BENCHMARKS.md).
	r := cache.NewReflectorWithOptions(listThenWatch{lw}, nil, (*store)(w), cache.ReflectorOptions{Name: "crashlens-pods"})
	go r.RunWithContext(ctx)
	// The batch timer is armed when a change waits, at most once per
	// BatchInterval after the last batch.
	batch := time.NewTimer(BatchInterval)
	batch.Stop()
	defer batch.Stop()
	armed, last := false, time.Time{}
	arm := func(d time.Duration) {
		if !armed {
			batch.Reset(max(d, 0))
			armed = true
		}
	}
	arm(BatchInterval) // the first state (syncing)
	// The clock is armed for the soonest time-based flip only.
	clock := time.NewTimer(clockCheck)
	clock.Stop()
	defer clock.Stop()
	setClock := func(flip time.Time) {
		if flip.IsZero() {
			clock.Stop()
			return
		}
		clock.Reset(min(max(flip.Sub(w.now()), 0), clockCheck))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-clock.C:
			setClock(w.expireTimers())
		case <-w.retime:
			w.mu.Lock()
			flip := w.flip
			w.mu.Unlock()
			setClock(flip)
		case <-w.wake:
			arm(time.Until(last.Add(BatchInterval)))
		case <-w.flush:
			batch.Reset(0)
			armed = true
		case <-batch.C:
			armed = false
			if b, ok := w.collect(); ok {
				select {
				case w.out <- b:
					w.commit(b)
					last = time.Now()
				default:
					// The consumer is behind: keep the changes, send them
					// with the next batch.
				}
				if w.pending() {
					arm(BatchInterval)
				}
			}
		}
	}
}

// kick says a change waits for the next batch; w.mu is held.
func (w *Watcher) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// pending: changes wait that no batch has carried yet.
func (w *Watcher) pending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirty) > 0 || w.counts || w.stateNew
}

// listThenWatch tells the reflector to list, then watch: client-go's
// documented switch off the watch-list (WatchListClient) for one lister.
type listThenWatch struct{ *cache.ListWatch }

func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

// collect builds a batch of everything changed since the last one sent.
func (w *Watcher) collect() (crash.Batch, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.dirty) == 0 && !w.counts && !w.stateNew {
		return crash.Batch{}, false
	}
	b := crash.Batch{Cluster: w.cluster, State: w.state, At: w.now(), Watched: len(w.pods), Crashing: len(w.groupOf)}
	for key := range w.dirty {
		members := w.members[key]
		if len(members) == 0 {
			if w.lastSent[key] {
				b.Removed = append(b.Removed, key)
			}
			continue
		}
		pods := make([]diagnose.CrashPod, 0, len(members))
		for podKey := range members {
			pods = append(pods, w.pods[podKey].crash)
		}
		g := crash.NewGroup(pods)
		g.Cluster = w.cluster
		b.Upserted = append(b.Upserted, g)
	}
	sort.Strings(b.Removed)
	sort.Slice(b.Upserted, func(i, j int) bool { return b.Upserted[i].Key < b.Upserted[j].Key })
	return b, true
}

// commit records a batch as delivered.
func (w *Watcher) commit(b crash.Batch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range b.Removed {
		delete(w.lastSent, k)
	}
	for _, g := range b.Upserted {
		w.lastSent[g.Key] = true
	}
	// Only what the batch covered is clean: changes since collect stay dirty.
	for _, k := range b.Removed {
		if len(w.members[k]) == 0 {
			delete(w.dirty, k)
		}
	}
	for _, g := range b.Upserted {
		if groupUnchanged(g, w.members[g.Key], w.pods) {
			delete(w.dirty, g.Key)
		}
	}
	w.counts = b.Watched != len(w.pods) || b.Crashing != len(w.groupOf)
	if b.State == w.state {
		w.stateNew = false
	}
}

func groupUnchanged(g crash.Group, members map[string]bool, pods map[string]*entry) bool {
	if len(members) != len(g.Pods) {
		return false
	}
	for _, p := range g.Pods {
		e := pods[p.Namespace+"/"+p.Name]
		if e == nil || e.crash != p {
			return false
		}
	}
	return true
}
