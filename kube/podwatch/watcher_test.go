package podwatch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/crashlens/crashlens/diagnose"
)

func testPod(name string, restarts int32, crashing bool, now time.Time) *corev1.Pod {
	yes := true
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: "uid-" + "name",
		Labels: map[string]string{"pod-template-hash": "abc12"}, OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api-abc12", Controller: &yes}}}}
	cs := corev1.ContainerStatus{Name: "app", RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	if crashing {
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
			FinishedAt: metav1.NewTime(now.Add(-time.Second))}}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	return p
}

func newTestWatcher(now *time.Time) *Watcher {
	w := NewWatcher(nil, "", "")
	w.now = func() time.Time { return *now }
	return w
}

func mustBatch(t *testing.T, w *Watcher) crash.Batch {
	t.Helper()
	b, ok := w.collect()
	if !ok {
		t.Fatal("no batch")
	}
	w.commit(b)
	return b
}

func TestWatcherBatches(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	s := (*store)(w)
	_ = s.Replace([]any{testPod("api-1", 3, true, now), testPod("api-2", 5, true, now), testPod("web-1", 0, false, now)}, "1")
	b := mustBatch(t, w)
	if b.State.Phase != crash.PhaseSynced || b.Watched != 3 || b.Crashing != 2 || len(b.Upserted) != 1 || len(b.Upserted[0].Pods) != 2 {
		t.Fatalf("first batch %+v", b)
	}
	g := b.Upserted[0]
	if g.Owner != "Deployment/api" || g.Container != "app" || g.Reason != "Error" || g.ExitCode != 1 || g.Restarts != 5 {
		t.Errorf("group %+v", g)
	}
	if _, ok := w.collect(); ok {
		t.Error("a batch without changes")
	}
	// A thousand updates between two ticks make one batch.
	for i := 0; i < 1000; i++ {
		_ = s.Update(testPod("api-1", int32(3+i), true, now))
	}
	b = mustBatch(t, w)
	if len(b.Upserted) != 1 || b.Upserted[0].Restarts != 1002 {
		t.Errorf("coalesced batch %+v", b.Upserted)
	}
	// api-1 recovers, api-2 is deleted: the group goes away.
	_ = s.Update(testPod("api-1", 1002, false, now))
	_ = s.Delete(testPod("api-2", 5, true, now))
	b = mustBatch(t, w)
	if len(b.Removed) != 1 || len(b.Upserted) != 0 || b.Crashing != 0 || b.Watched != 2 {
		t.Errorf("after recovery %+v", b)
	}
}

// TestWatcherRecentRestartExpires: a pod running again after a restart
// leaves the list when the recent-restart window ends, with no API event.
func TestWatcherRecentRestartExpires(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	p := testPod("api-1", 2, false, now)
	p.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 137, Reason: "OOMKilled", FinishedAt: metav1.NewTime(now.Add(-time.Minute))}}
	_ = (*store)(w).Add(p)
	if b := mustBatch(t, w); len(b.Upserted) != 1 || b.Upserted[0].Reason != "OOMKilled" {
		t.Fatalf("batch %+v", b)
	}
	// The clock is set for the window's end, not for every second.
	flip := w.expireTimers()
	if !flip.After(now) || flip.After(now.Add(10*time.Minute)) || !w.flip.Equal(flip) {
		t.Fatalf("the clock is set for %v (now %v)", flip, now)
	}
	now = now.Add(10 * time.Minute) // past the rulebook's recent-restart window
	if next := w.expireTimers(); !next.IsZero() || len(w.timed) != 0 {
		t.Errorf("after the window the clock is set for %v with %d timed pods; want nothing left to wait for", next, len(w.timed))
	}
	if b := mustBatch(t, w); len(b.Removed) != 1 || b.Crashing != 0 {
		t.Errorf("after the window %+v", b)
	}
}

// TestWatcherRelistDropsVanishedPods: a relist that no longer has a pod
// removes its group (pods deleted while the watch was down).
func TestWatcherRelistDropsVanishedPods(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	s := (*store)(w)
	_ = s.Replace([]any{testPod("api-1", 3, true, now)}, "1")
	mustBatch(t, w)
	w.setState(crash.ConnState{Phase: crash.PhaseReconnecting, Err: "connection refused"})
	if b := mustBatch(t, w); b.State.Phase != crash.PhaseReconnecting {
		t.Errorf("state %+v", b.State)
	}
	_ = s.Replace([]any{testPod("web-1", 0, false, now)}, "2")
	b := mustBatch(t, w)
	if len(b.Removed) != 1 || b.State.Phase != crash.PhaseSynced || b.Watched != 1 {
		t.Errorf("after relist %+v", b)
	}
}

func BenchmarkWatcherUpdate(b *testing.B) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	s := (*store)(w)
	pods := make([]*corev1.Pod, 1000)
	for i := range pods {
		pods[i] = testPod(fmt.Sprintf("api-%d", i), int32(i), i%100 == 0, now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = s.Update(pods[i%len(pods)])
	}
}

// TestReplaceKeepsPeekedEntries: after a relist, whose pods the list
// classified as it decoded them and whose stubs it gave the reflector,
// Replace keeps the list's entries for the stubs, drops the pods the list
// did not have, and classifies a whole pod itself.
func TestReplaceKeepsPeekedEntries(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	s := (*store)(w)
	_ = s.Replace([]any{testPod("gone-1", 2, true, now)}, "1")
	mustBatch(t, w)
	crashing, healthy := testPod("api-1", 3, true, now), testPod("web-1", 0, false, now)
	w.upsert(crashing) // what the list does with each pod it decodes
	w.upsert(healthy)
	_ = s.Replace([]any{classifiedStub(crashing), classifiedStub(healthy), testPod("api-2", 4, true, now)}, "2")
	b := mustBatch(t, w)
	if b.Watched != 3 || b.Crashing != 2 || len(b.Upserted) != 1 || len(b.Upserted[0].Pods) != 2 {
		t.Fatalf("after the relist: %+v", b)
	}
	if _, ok := w.pods["shop/gone-1"]; ok {
		t.Error("a pod the relist did not have is still watched")
	}
}

// TestWatcherStates: a refusal (unreachable, forbidden, rejected
// credentials) lasts through the reflector's next attempts until a server
// answers: a watch resumes (synced), a list is synced at its Replace; a
// relist of a connected watcher says relisting.
func TestWatcherStates(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		err   error
		phase string
	}{
		{"unreachable", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), crash.PhaseReconnecting},
		{"forbidden", apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("no")), crash.PhaseForbidden},
		{"unauthorized", apierrors.NewUnauthorized("Unauthorized"), crash.PhaseUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWatcher(&now)
			_ = (*store)(w).Replace([]any{testPod("api-1", 0, false, now)}, "1")
			w.listing()
			if w.state.Phase != crash.PhaseRelisting {
				t.Fatalf("a relist of a synced watcher: %s", w.state.Phase)
			}
			w.failed("list", tc.err)
			w.listing() // the reflector's next attempt, before any answer
			if w.state.Phase != tc.phase {
				t.Errorf("after a retry: %s, want %s still", w.state.Phase, tc.phase)
			}
			w.watching() // a watch answered: where it was
			if w.state.Phase != crash.PhaseSynced {
				t.Errorf("after a watch was answered: %s, want synced", w.state.Phase)
			}
			w.failed("watch", tc.err)
			w.listing() // the relist after the watch failed
			if w.state.Phase != tc.phase {
				t.Errorf("relisting after a refusal: %s, want %s until a server answers", w.state.Phase, tc.phase)
			}
			_ = (*store)(w).Replace([]any{testPod("api-1", 0, false, now)}, "2") // the list answered
			if w.state.Phase != crash.PhaseSynced {
				t.Errorf("after the list was answered: %s, want synced", w.state.Phase)
			}
		})
	}
}

// TestWatcherClockFlipsLive: a running watcher drops a recently restarted
// pod when its window ends, woken by its clock (set for that moment, not
// ticking each second), with no API event.
func TestWatcherClockFlipsLive(t *testing.T) {
	now := time.Now()
	restarted := func(finished time.Time) *corev1.Pod {
		p := testPod("api-1", 2, false, now)
		p.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 137, Reason: "OOMKilled", FinishedAt: metav1.NewTime(finished)}}
		return p
	}
	window := diagnose.Classify(restarted(now), now).Recheck.Sub(now)
	if window <= 0 {
		t.Fatal("the rulebook gives a recent restart no window")
	}
	w := NewWatcher(fake.NewSimpleClientset(restarted(now.Add(-window+1500*time.Millisecond))), "", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	listed, deadline := false, time.After(20*time.Second)
	for {
		select {
		case b := <-w.Batches():
			listed = listed || len(b.Upserted) == 1
			if len(b.Removed) == 1 {
				if !listed {
					t.Fatal("removed before it was listed")
				}
				if since := time.Since(now); since < time.Second {
					t.Errorf("removed after %v, before its window ended", since)
				}
				return
			}
		case <-deadline:
			t.Fatalf("still listed 20 s after its window ended (listed: %v)", listed)
		}
	}
}

// TestWatcherFlushesTheSync: a reconciled list asks for its batch at once
// (the syncing view waits for it); a pod's update waits for the batch
// interval like every other change.
func TestWatcherFlushesTheSync(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	w := newTestWatcher(&now)
	s := (*store)(w)
	for _, tc := range []struct {
		name  string
		do    func() error
		flush bool
	}{
		{"first list", func() error { return s.Replace([]any{testPod("api-1", 3, true, now)}, "1") }, true},
		{"update", func() error { return s.Update(testPod("api-1", 4, true, now)) }, false},
		{"relist", func() error { return s.Replace([]any{testPod("api-1", 5, true, now)}, "2") }, true},
		{"add", func() error { return s.Add(testPod("api-2", 1, true, now)) }, false},
	} {
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := false
		select {
		case <-w.flush:
			got = true
		default:
		}
		if got != tc.flush {
			t.Errorf("%s: flush %v, want %v", tc.name, got, tc.flush)
		}
		select {
		case <-w.flush:
			t.Errorf("%s: a second flush is due", tc.name)
		default:
		}
	}
}
