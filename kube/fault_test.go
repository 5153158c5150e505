//go:build fault

package kube

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// Fault tests break the cluster under a running watcher; `make test` runs
// them on their own, after the other integration tests.

func clusterctl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "hack", "cluster", "bin", "clusterctl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("clusterctl %v: %v: %s", args, err, out)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFaultAPIServerRestart: the watcher says within 2 s that it lost the
// server, does not spin while it is gone, and after it returns shows every
// crash group that exists, none twice, none lost.
func TestFaultAPIServerRestart(t *testing.T) {
	kc := os.Getenv("CRASHLENS_KUBECONFIG")
	if kc == "" {
		t.Fatal("CRASHLENS_KUBECONFIG is not set: run through `make test`")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	c, err := NewClientset(cfg, "fault-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(c, "", "")
	go w.Run(ctx)
	view := map[string]Group{}
	var state ConnState
	apply := func(b Batch) {
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
	if !next(30*time.Second, func() bool { return state.Phase == PhaseSynced && len(view) > 0 }) {
		t.Fatalf("never synced: %+v", state)
	}
	before := len(view)

	clusterctl(t, "stop", "kube-apiserver")
	stopped := time.Now()
	if !next(2*time.Second, func() bool { return state.Phase == PhaseReconnecting || state.Phase == PhaseRelisting }) {
		t.Errorf("state still %q 2 s after the apiserver stopped", state.Phase)
	}
	t.Logf("state %q after %s: %s", state.Phase, time.Since(stopped).Round(10*time.Millisecond), state.Err)
	cpu0, wall0 := cpuTime(), time.Now()
	next(8*time.Second, func() bool { return false }) // the server stays down
	if used := float64(cpuTime()-cpu0) / float64(time.Since(wall0)); used > 0.05 {
		t.Errorf("used %.1f%% of a core while the server was down, want under 5%%", used*100)
	}
	clusterctl(t, "start", "kube-apiserver")
	if !next(60*time.Second, func() bool { return state.Phase == PhaseSynced }) {
		t.Fatalf("never synced again: %+v", state)
	}
	next(2*time.Second, func() bool { return false }) // let the relist's changes arrive

	// The truth, from the API.
	pods, err := c.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{FieldSelector: podFieldSelector})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]int{}
	now := time.Now()
	for i := range pods.Items {
		if cp, ok := Classify(&pods.Items[i], now); ok {
			truth[cp.GroupKey()]++
		}
	}
	for key, n := range truth {
		g, ok := view[key]
		if !ok {
			t.Errorf("group lost after the restart: %q", key)
			continue
		}
		if len(g.Pods) != n {
			t.Errorf("group %q has %d pods, the API %d", key, len(g.Pods), n)
		}
	}
	for key := range view {
		if _, ok := truth[key]; !ok {
			t.Errorf("group shown that does not exist: %q", key)
		}
	}
	t.Logf("%d groups before, %d after, %d in the API", before, len(view), len(truth))
}
