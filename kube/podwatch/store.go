package podwatch

// The watcher as the reflector's store: each pod is classified by the
// rulebook as it arrives and only the crash value is kept; groups are kept
// up to date as pods join and leave them.

import (
	"runtime/debug"
	"time"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/crashlens/crashlens/diagnose"
)

// entry is all the watcher keeps of a pod: nothing for a healthy pod, the
// crash value for a failing one, valid from `from` until `until`.
type entry struct {
	crash       diagnose.CrashPod
	from, until time.Time
}

// store is the Watcher seen as the reflector's store: it classifies each pod
// as it arrives and keeps only the crash value.
type store Watcher

func (s *store) Add(obj any) error { (*Watcher)(s).upsert(obj); return nil }

func (s *store) Update(obj any) error { (*Watcher)(s).upsert(obj); return nil }

func (s *store) Resync() error { return nil }

func (s *store) Delete(obj any) error {
	w := (*Watcher)(s)
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.remove(pod.Namespace + "/" + pod.Name)
	w.kick()
	return nil
}

// Replace reconciles with a full list. A stub of a pod the list classified
// as it decoded it keeps the entry made then; a pod is classified now. The
// first sync hands the memory of the initial list back to the OS: Go keeps
// it otherwise, and nothing will need it again.
func (s *store) Replace(list []any, _ string) error {
	w := (*Watcher)(s)
	now := w.now()
	fresh := make(map[string]*entry, len(list))
	var kept []string // stubs: their entries are the list's
	for _, obj := range list {
		switch o := obj.(type) {
		case *metav1.PartialObjectMetadata: // classifiedStub
			kept = append(kept, o.Namespace+"/"+o.Name)
		case *corev1.Pod:
			fresh[o.Namespace+"/"+o.Name] = makeEntry(o, now)
		}
	}
	w.mu.Lock()
	for _, key := range kept {
		if e, ok := w.pods[key]; ok {
			fresh[key] = e
		}
	}
	for key := range w.pods {
		if _, ok := fresh[key]; !ok {
			w.remove(key)
		}
	}
	for key, e := range fresh {
		w.put(key, e, now)
	}
	w.counts = true
	first := !w.synced
	w.synced = true
	if w.state.Phase != crash.PhaseSynced {
		w.state, w.stateNew = crash.ConnState{Phase: crash.PhaseSynced, Since: now}, true
		kube.Debugf("watcher: synced (%d pods)", len(list))
	}
	select {
	case w.flush <- struct{}{}:
	default: // a flush is already due
	}
	w.mu.Unlock()
	if first {
		w.releaseSyncGC()
		if len(list) >= freeAfterSyncPods {
			go debug.FreeOSMemory()
		}
	}
	return nil
}

// freeAfterSyncPods: below this many pods the initial stream's memory is
// not worth a forced collection.
const freeAfterSyncPods = 5000

func (w *Watcher) upsert(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok {
		w.upsertPod(pod)
	}
}

// upsertPod classifies and stores one pod: each event's, and each of a
// list's as it is decoded.
func (w *Watcher) upsertPod(pod *corev1.Pod) {
	now := w.now()
	e := makeEntry(pod, now)
	w.mu.Lock()
	w.put(pod.Namespace+"/"+pod.Name, e, now)
	w.kick()
	w.mu.Unlock()
}

// makeEntry asks the rulebook about a pod. A verdict the clock alone will
// flip becomes a time-limited entry: a failing pod until its recent restart
// ages out, a pod stuck creating from the moment it counts as failing.
func makeEntry(pod *corev1.Pod, now time.Time) *entry {
	v := diagnose.Classify(pod, now)
	switch {
	case v.Failing:
		return &entry{crash: v.Pod, until: v.Recheck}
	case !v.Recheck.IsZero():
		return &entry{crash: v.Pod, from: v.Recheck}
	}
	return nil
}

func (e *entry) active(now time.Time) bool {
	return e != nil && (e.from.IsZero() || !now.Before(e.from)) && (e.until.IsZero() || now.Before(e.until))
}

// put stores a pod's entry and marks the groups it leaves and joins. The
// caller holds w.mu.
func (w *Watcher) put(key string, e *entry, now time.Time) {
	old, existed := w.pods[key]
	if !existed {
		w.counts = true
	}
	if (old != nil) != (e != nil) {
		w.counts = true
	}
	w.pods[key] = e
	if flip := e.nextFlip(now); !flip.IsZero() {
		w.timed[key] = true
		if w.flip.IsZero() || flip.Before(w.flip) {
			w.flip = flip
			select {
			case w.retime <- struct{}{}:
			default:
			}
		}
	} else {
		delete(w.timed, key)
	}
	w.regroup(key, e, now)
}

func (w *Watcher) remove(key string) {
	if _, ok := w.pods[key]; !ok {
		return
	}
	delete(w.pods, key)
	delete(w.timed, key)
	w.counts = true
	w.regroup(key, nil, w.now())
}

// regroup moves a pod between groups according to its entry.
func (w *Watcher) regroup(key string, e *entry, now time.Time) {
	newKey := ""
	if e.active(now) {
		newKey = e.crash.GroupKey()
	}
	if old, ok := w.groupOf[key]; ok {
		w.dirty[old] = true // its content may have changed even if the key did not
		if old != newKey {
			delete(w.members[old], key)
			if len(w.members[old]) == 0 {
				delete(w.members, old)
			}
			delete(w.groupOf, key)
		}
	}
	if newKey != "" {
		if w.members[newKey] == nil {
			w.members[newKey] = map[string]bool{}
		}
		w.members[newKey][key] = true
		w.groupOf[key] = newKey
		w.dirty[newKey] = true
	}
}

// expireTimers regroups the pods whose verdict the clock alone flipped, and
// returns when the next one flips (zero when none will): the watcher's
// clock sleeps until then instead of waking every second.
func (w *Watcher) expireTimers() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var next time.Time
	for key := range w.timed {
		e := w.pods[key]
		_, grouped := w.groupOf[key]
		if e.active(now) != grouped {
			w.counts = true
			w.regroup(key, e, now)
			w.kick()
		}
		flip := e.nextFlip(now)
		if flip.IsZero() {
			delete(w.timed, key) // the clock will not change it again
			continue
		}
		if next.IsZero() || flip.Before(next) {
			next = flip
		}
	}
	w.flip = next
	return next
}

// nextFlip is when the clock alone next changes whether e is active: its
// from or its until, whichever is still ahead; zero when neither is.
func (e *entry) nextFlip(now time.Time) time.Time {
	if e == nil {
		return time.Time{}
	}
	for _, t := range []time.Time{e.from, e.until} {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}
