//go:build fault

package capture

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/kube/podwatch"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/crashlens/crashlens/ledger"
)

// countingTransport records when each request left, as the apiserver sees
// it: the test counts what the recorder really sends, not what it says.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	at   []time.Time
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.at = append(c.at, time.Now())
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// TestFaultCaptureBudget: 200 pods crash-loop at once, each restarting
// every 2 s (their status is written as a kubelet would, on a Node object
// no kubelet serves, so nothing runs them and the pod GC keeps them), while
// the watcher feeds a Recorder.
// The captures' requests, counted on the wire, stay within the budget in
// every second (3 requests per capture, captureRate captures a second after
// a burst of captureBurst); the terminations past the bounded queue are
// dropped and counted. It runs with the fault tests: 200 crashing pods
// would show in the other tests' cluster-wide views.
func TestFaultCaptureBudget(t *testing.T) {
	cfg := clustertest.AdminConfig(t)
	writer := rest.CopyConfig(cfg)
	writer.QPS, writer.Burst = 1000, 1000 // the test plays 200 kubelets
	admin, err := kubernetes.NewForConfig(writer)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := fmt.Sprintf("budget-%d", time.Now().UnixNano()%100000)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	// No capacity: the scheduler never places another test's pod on it.
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-node"}}
	if _, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{}) })
	const pods = 200
	created := make([]*corev1.Pod, pods)
	if err := clustertest.Parallel(8, pods, func(i int) error {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("loop-%03d", i), Namespace: ns},
			Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "app", Image: "crashlens.local/busybox:latest"}}}}
		var err error
		created[i], err = admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	counter := &countingTransport{}
	capCfg := *cfg
	capCfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }
	capCfg.QPS, capCfg.Burst = 1000, 1000 // the recorder's own limit is under test, not client-go's
	capClient, err := kubernetes.NewForConfig(&capCfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := NewRecorder(capClient, l, clusters.Target{Context: "budget"}, nil)
	go rec.Run(ctx)
	w := podwatch.NewWatcher(admin, ns, "")
	go w.Run(ctx)
	batches := rec.Pass(ctx, w.Batches())
	go func() {
		for range batches {
		}
	}()

	// Every pod crashes every 2 s for 20 s: 100 terminations a second.
	const rounds, every = 10, 2 * time.Second
	start := time.Now()
	for round := int32(1); round <= rounds; round++ {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		if err := clustertest.Parallel(8, pods, func(i int) error {
			p, name := created[i], created[i].Name
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "crashlens.local/busybox:latest", RestartCount: round,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
					Message: "back-off 10s restarting failed container=app pod=" + name}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
					StartedAt: metav1.NewTime(now.Add(-time.Second)), FinishedAt: now}}}}
			var err error
			created[i], err = admin.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(time.Duration(round) * every)))
	}
	time.Sleep(5 * time.Second) // the queue keeps draining at its rate
	cancel()
	elapsed := time.Since(start)

	counter.mu.Lock()
	at := append([]time.Time(nil), counter.at...)
	counter.mu.Unlock()
	requests, dropped := rec.Stats()
	// The most requests in any one second, and in the whole run.
	worst := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		worst = max(worst, n)
	}
	perCapture := 3
	limitPerSecond := perCapture * (captureBurst + captureRate) // a full burst and a second's refill
	limitTotal := perCapture * (captureBurst + int(elapsed.Seconds()+1)*captureRate)
	t.Logf("%d pods x %d crashes in %s: %d requests on the wire (the recorder counted %d), at most %d in one second (limit %d), %.1f/s on average (limit %d/s), %d terminations dropped by the full queue",
		pods, rounds, elapsed.Round(time.Millisecond), len(at), requests, worst, limitPerSecond, float64(len(at))/elapsed.Seconds(), perCapture*captureRate, dropped)
	if len(at) < perCapture*captureRate*10 {
		t.Errorf("only %d capture requests in %s: the recorder did not keep capturing", len(at), elapsed)
	}
	if worst > limitPerSecond {
		t.Errorf("%d requests in one second, over the budget of %d", worst, limitPerSecond)
	}
	if len(at) > limitTotal {
		t.Errorf("%d requests in %s, over the budget of %d", len(at), elapsed, limitTotal)
	}
	if dropped == 0 {
		t.Errorf("2,000 terminations in 20 s and none dropped: the queue is not bounded at %d", captureQueue)
	}
}
