//go:build fault

package podwatch

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
)

// Fault tests break the cluster under a running watcher; `make test` runs
// them on their own, after the other integration tests.

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFaultAPIServerRestart: the watcher says within 2 s that it lost the
// server, does not spin while it is gone, and after it returns shows every
// crash group that exists, none twice, none lost.
func TestFaultAPIServerRestart(t *testing.T) {
	cfg := clustertest.AdminConfig(t)
	cfg.Timeout = 5 * time.Second
	c, err := kube.NewClientset(cfg, "fault-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(c, "", "")
	go w.Run(ctx)
	view := map[string]crash.Group{}
	var state crash.ConnState
	apply := func(b crash.Batch) {
		for _, k := range b.Removed {
			delete(view, k)
		}
		for _, g := range b.Upserted {
			view[g.Key] = g
		}
		state = b.State
	}
	next := func(timeout time.Duration, until func() bool) bool {
		deadline := time.After(timeout)
		for !until() {
			select {
			case b := <-w.Batches():
				apply(b)
			case <-deadline:
				return false
			}
		}
		return true
	}
	if !next(30*time.Second, func() bool { return state.Phase == crash.PhaseSynced && len(view) > 0 }) {
		t.Fatalf("never synced: %+v", state)
	}
	before := len(view)

	clustertest.Clusterctl(t, "stop", "kube-apiserver")
	stopped := time.Now()
	if !next(2*time.Second, func() bool { return state.Phase == crash.PhaseReconnecting || state.Phase == crash.PhaseRelisting }) {
		t.Errorf("state still %q 2 s after the apiserver stopped", state.Phase)
	}
	t.Logf("state %q after %s: %s", state.Phase, time.Since(stopped).Round(10*time.Millisecond), state.Err)
	cpu0, wall0 := cpuTime(), time.Now()
	next(8*time.Second, func() bool { return false }) // the server stays down
	if used := float64(cpuTime()-cpu0) / float64(time.Since(wall0)); used > 0.05 {
		t.Errorf("used %.1f%% of a core while the server was down, want under 5%%", used*100)
	}
	clustertest.Clusterctl(t, "start", "kube-apiserver")
	if !next(60*time.Second, func() bool { return state.Phase == crash.PhaseSynced }) {
		t.Fatalf("never synced again: %+v", state)
	}
	// The cluster keeps crashing while the test reads it (a CronJob starts
	// a run, a pod fails), so the stream and one List are compared until
	// they agree, within a bound: a watcher that lost or doubled a group
	// never agrees.
	var diff []string
	truth := map[string]int{}
	agree := func() bool {
		var err error
		if truth, err = clustertest.FailingGroups(c, diagnose.CrashPod.GroupKey); err != nil {
			diff = []string{err.Error()}
			return false
		}
		shown := map[string]int{}
		for k, g := range view {
			shown[k] = len(g.Pods)
		}
		diff = clustertest.GroupDiff(shown, truth)
		return len(diff) == 0
	}
	deadline := time.Now().Add(30 * time.Second)
	for !agree() && time.Now().Before(deadline) {
		next(time.Second, func() bool { return false })
	}
	for _, d := range diff {
		t.Error(d)
	}
	t.Logf("%d groups before, %d after, %d in the API", before, len(view), len(truth))
}

// churnPod is a bare pod bound to a node no kubelet serves, so only this
// test writes its status.
func churnPod(ns string, i int) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("churn-%04d", i), Namespace: ns, Labels: map[string]string{"app": "churn"}},
		Spec: corev1.PodSpec{NodeName: churnNode, Containers: []corev1.Container{{Name: "app", Image: "crashlens.local/busybox:latest"}}}}
}

const churnNode = "churn-ghost"

func crashStatus(now time.Time) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", Image: "crashlens.local/busybox:latest", RestartCount: 5,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s restarting failed container=app"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
			StartedAt: metav1.NewTime(now.Add(-time.Second)), FinishedAt: metav1.NewTime(now)}},
	}}}
}

// TestFaultPodChurn: 1,000 crashing pods created and deleted in a loop for
// a minute under a running watcher. Within 1 s of the last write the
// watcher's groups equal the API's, and its memory returns to where it was.
func TestFaultPodChurn(t *testing.T) {
	cfg := clustertest.AdminConfig(t)
	cfg.QPS, cfg.Burst = 2000, 4000
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewClientset(cfg, "fault-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := fmt.Sprintf("fault-churn-%d", time.Now().UnixNano()%100000)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer admin.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	// Pods are refused until the controller has made the namespace's
	// default ServiceAccount.
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if _, err := admin.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Since(start) > 90*time.Second { // controllers back off after the restart test
			t.Fatal("no default ServiceAccount after 90 s")
		}
	}
	if _, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: churnNode}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	defer admin.CoreV1().Nodes().Delete(ctx, churnNode, metav1.DeleteOptions{})

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := NewWatcher(c, "", "")
	go w.Run(wctx)
	var mu sync.Mutex
	view := map[string]int{} // group key -> pods
	var state crash.ConnState
	go func() {
		for b := range w.Batches() {
			mu.Lock()
			for _, k := range b.Removed {
				delete(view, k)
			}
			for _, g := range b.Upserted {
				view[g.Key] = len(g.Pods)
			}
			state = b.State
			mu.Unlock()
		}
	}()
	inNS := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for k, pods := range view {
			if strings.HasPrefix(k, ns+"\x00") {
				n += pods
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		synced := state.Phase == crash.PhaseSynced
		mu.Unlock()
		if synced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher never synced")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	steady := clustertest.HeapInUse()

	create := func(i int) error {
		p, err := admin.CoreV1().Pods(ns).Create(ctx, churnPod(ns, i), metav1.CreateOptions{})
		if err != nil {
			return err
		}
		p.Status = crashStatus(time.Now())
		_, err = admin.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	}
	zero := int64(0)
	del := func(i int) error {
		return admin.CoreV1().Pods(ns).Delete(ctx, churnPod(ns, i).Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	const pods = 1000
	start, cycles := time.Now(), 0
	var peak uint64
	for time.Since(start) < time.Minute {
		if err := clustertest.Parallel(16, pods, create); err != nil {
			t.Fatalf("cycle %d: create: %v", cycles, err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		if err := clustertest.Parallel(16, pods, del); err != nil {
			t.Fatalf("cycle %d: delete: %v", cycles, err)
		}
		cycles++
	}
	// The churn stops with 1,000 crashing pods in place.
	if err := clustertest.Parallel(16, pods, create); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for inNS() != pods && time.Since(stopped) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(stopped)
	t.Logf("%d cycles of %d creates, status updates and deletes in %s; view equal to the API %s after the last write",
		cycles, pods, time.Since(start).Round(time.Second), took.Round(10*time.Millisecond))
	if took > time.Second {
		t.Errorf("the view shows %d of %d pods %s after the churn stopped, want all within 1 s", inNS(), pods, took)
	}
	if err := clustertest.Parallel(16, pods, del); err != nil {
		t.Fatal(err)
	}
	stopped = time.Now()
	for inNS() != 0 && time.Since(stopped) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if n := inNS(); n != 0 || time.Since(stopped) > time.Second {
		t.Errorf("after deleting every pod the view still had %d after %s", n, time.Since(stopped))
	}
	time.Sleep(time.Second)
	after := clustertest.HeapInUse()
	t.Logf("live heap: %.1f MB steady, %.1f MB peak, %.1f MB after the churn", mb(steady), mb(peak), mb(after))
	if after > steady+max(steady/4, 4<<20) {
		t.Errorf("heap %.1f MB after the churn, %.1f MB before: memory did not return", mb(after), mb(steady))
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
