package capture

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
)

// wholePodPods are one pod of a whole-pod restart in its two states: the
// seconds its app container's exit 3 shows (instance 4), and after, when
// it runs again (instance 5) with the kubelet's placeholder as its last
// state.
func wholePodPods(end time.Time) (exit, after *corev1.Pod) {
	after = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "trainer-1", Namespace: "ml", UID: "uid-7"},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 5}}}}
	after = wholePodPlaceholder(after)
	after.Status.ContainerStatuses[0].State.Running.StartedAt = metav1.NewTime(end.Add(time.Second))
	exit = withTermination(after, "app", &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error",
		StartedAt: metav1.NewTime(end.Add(-30 * time.Second)), FinishedAt: metav1.NewTime(end)}, 4)
	return exit, after
}

// TestRowOfAnUnseenWholePodExit: when only the placeholder is left, the
// instance still gets its row, with its exit unknown rather than the
// placeholder's 137, dated by the next instance's start, and a note that
// says why.
func TestRowOfAnUnseenWholePodExit(t *testing.T) {
	end := time.Date(2026, 12, 4, 2, 40, 0, 0, time.UTC)
	_, after := wholePodPods(end)
	r := Row(clusters.Target{Context: "prod"}, Evidence{Pod: after, Container: "app", Workload: "Deployment/trainer",
		LogErr: errRemovedInstance, Observed: end.Add(time.Minute)})
	if r.Restart != 4 || r.ExitCode != -1 || !r.StartedAt.IsZero() || r.RunSeconds != 0 || !r.FinishedAt.Equal(end.Add(time.Second)) {
		t.Errorf("instance %d, exit %d, started %v, ran %v s, ended %v: want instance 4, exit unknown, ended when the next began",
			r.Restart, r.ExitCode, r.StartedAt, r.RunSeconds, r.FinishedAt)
	}
	if r.Killer != diagnose.KillerPodRestart || !strings.Contains(r.LogNote, "exit not seen") || !strings.Contains(r.LogNote, "removed") {
		t.Errorf("killer %q, note %q", r.Killer, r.LogNote)
	}
	// Not running yet: the end is dated by when the watcher saw it.
	after.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	if r := Row(clusters.Target{}, Evidence{Pod: after, Container: "app", Observed: end.Add(time.Minute)}); !r.FinishedAt.Equal(end.Add(time.Minute)) {
		t.Errorf("ended %v, want when the watcher saw it", r.FinishedAt)
	}
}

// TestRecorderRecordsAWholePodRestartOnce: a recorder that saw the exit
// records it once, and the placeholder after it costs no second capture;
// one that saw only the placeholder (it was reconnecting) still records
// the instance.
func TestRecorderRecordsAWholePodRestartOnce(t *testing.T) {
	end := time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)
	exit, after := wholePodPods(end)
	batch := func(p *corev1.Pod) crash.Batch {
		v := diagnose.Classify(p, end.Add(2*time.Second))
		if !v.Failing || v.Pod.Container != "app" {
			t.Fatalf("not failing: %+v", v)
		}
		return crash.Batch{Upserted: []crash.Group{{Key: v.Pod.GroupKey(), Pods: []diagnose.CrashPod{v.Pod}}}}
	}
	for _, tc := range []struct {
		name     string
		batches  []crash.Batch
		exit     int32
		requests int
	}{
		{"exit seen, then the placeholder", []crash.Batch{batch(exit), batch(after), batch(after)}, 3, 2},
		{"only the placeholder", []crash.Batch{batch(after), batch(after)}, -1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			rec := NewRecorder(fake.NewClientset(after.DeepCopy()), l, clusters.Target{Context: "test"}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go rec.Run(ctx)
			for _, b := range tc.batches {
				rec.Observe(b)
			}
			var rows []ledger.Crash
			for deadline := time.Now().Add(5 * time.Second); len(rows) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				rows, _ = l.History(ctx, ledger.Query{})
			}
			time.Sleep(captureSettle + 500*time.Millisecond) // a second capture would have come by now
			rows, _ = l.History(ctx, ledger.Query{})
			if len(rows) != 1 || rows[0].Restart != 4 || rows[0].ExitCode != tc.exit {
				t.Fatalf("rows %+v: want one, instance 4, exit %d", rows, tc.exit)
			}
			if requests, dropped := rec.Stats(); requests != tc.requests || dropped != 0 {
				t.Errorf("%d requests, %d dropped; want %d (get the pod, list its events; the removed log is not asked)", requests, dropped, tc.requests)
			}
		})
	}
}
