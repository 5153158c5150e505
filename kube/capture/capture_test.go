package capture

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// TestRecorderRecordsEachTerminationOnce: a termination seen in two
// batches (terminated, then running again with it as the last state) is
// captured once, under the instance that ran, with the log of that
// instance. (The fake clientset is enough for the queue's logic; the real
// cluster test is TestLedgerRecordsEveryCrash.)
func TestRecorderRecordsEachTerminationOnce(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)
	term := &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", StartedAt: metav1.NewTime(now.Add(-20 * time.Second)), FinishedAt: metav1.NewTime(now)}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop", UID: "uid-1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 4,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now.Add(time.Second))}}, LastTerminationState: corev1.ContainerState{Terminated: term}}}}}
	c := fake.NewClientset(pod)
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := NewRecorder(c, l, clusters.Target{Server: "https://127.0.0.1:16443", Context: "test"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	v := diagnose.Classify(pod, now.Add(2*time.Second))
	if !v.Failing {
		t.Fatal("the pod is not failing")
	}
	b := crash.Batch{Upserted: []crash.Group{{Key: v.Pod.GroupKey(), Pods: []diagnose.CrashPod{v.Pod}}}}
	rec.Observe(b)
	rec.Observe(b) // the same termination again
	var rows []ledger.Crash
	for deadline := time.Now().Add(5 * time.Second); len(rows) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rows, _ = l.History(ctx, ledger.Query{})
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	r := rows[0]
	if r.Restart != 3 || r.ExitCode != 3 || r.PodUID != "uid-1" || r.RunSeconds != 20 || r.Context != "test" || r.TopFinding == "" || r.Killer != diagnose.KillerApplication {
		t.Errorf("row %+v", r)
	}
	if r.LogTail != "fake logs" {
		t.Errorf("log tail %q", r.LogTail)
	}
	time.Sleep(100 * time.Millisecond)
	if requests, dropped := rec.Stats(); requests != 3 || dropped != 0 {
		t.Errorf("%d requests, %d dropped; want 3 and 0", requests, dropped)
	}
}

// TestPassRefinesCauses: Pass hands a batch on with the status's cause
// ("killed by SIGKILL": the status cannot say who), and once the capture
// has read the kubelet's Killing event, sends the group again with the
// rulebook's cause from it ("liveness kill"); a later batch of the same
// group keeps the refined cause.
func TestPassRefinesCauses(t *testing.T) {
	now := time.Now().Add(-3 * time.Second).Truncate(time.Second) // past the capture's settle time
	term := &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error", StartedAt: metav1.NewTime(now.Add(-40 * time.Second)), FinishedAt: metav1.NewTime(now)}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop", UID: "uid-1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 4,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}, LastTerminationState: corev1.ContainerState{Terminated: term}}}}}
	kill := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "api-1.kill", Namespace: "shop"}, Reason: "Killing", Type: "Normal",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1", Namespace: "shop", FieldPath: "spec.containers{app}"},
		Message:        "Container app failed liveness probe, will be restarted", FirstTimestamp: metav1.NewTime(now.Add(-30 * time.Second)),
		LastTimestamp: metav1.NewTime(now.Add(-30 * time.Second)), Count: 1}
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := NewRecorder(fake.NewClientset(pod, kill), l, clusters.Target{Context: "test"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	v := diagnose.Classify(pod, now.Add(time.Second))
	in := make(chan crash.Batch)
	out := rec.Pass(ctx, in)
	g := crash.NewGroup([]diagnose.CrashPod{v.Pod})
	in <- crash.Batch{Cluster: "test", Upserted: []crash.Group{g}, Watched: 1, Crashing: 1}
	first := <-out
	if len(first.Upserted) != 1 || first.Upserted[0].Cause != "killed by SIGKILL" {
		t.Fatalf("first batch: %+v", first.Upserted)
	}
	select {
	case b := <-out:
		if len(b.Upserted) != 1 || b.Upserted[0].Cause != "liveness kill" || b.Watched != 1 {
			t.Fatalf("refined batch: %+v", b)
		}
		// Its counts are the cluster's, not a second cluster's: a view
		// sums its clusters' counts (a batch without the cluster doubled
		// the status bar's "crashing / watched").
		if b.Cluster != "test" {
			t.Errorf("refined batch for cluster %q, want the batch's own %q", b.Cluster, "test")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the group was not sent again with the captured cause")
	}
	in <- crash.Batch{Upserted: []crash.Group{g}, Watched: 1, Crashing: 1}
	if b := <-out; b.Upserted[0].Cause != "liveness kill" {
		t.Errorf("a later batch lost the refined cause: %q", b.Upserted[0].Cause)
	}
	rows, err := l.History(ctx, ledger.Query{})
	if err != nil || len(rows) != 1 || rows[0].Cause != "liveness kill" || rows[0].Killer != diagnose.KillerGracePeriod {
		t.Errorf("ledger rows %+v (%v)", rows, err)
	}
}
