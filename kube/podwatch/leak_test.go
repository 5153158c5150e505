package podwatch

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
	"k8s.io/client-go/kubernetes/fake"
)

// TestWatcherStartStopDoesNotLeak starts and stops the watcher twenty
// times: its reflector, batch loop and watches all end with the context.
func TestWatcherStartStopDoesNotLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	now := time.Now()
	c := fake.NewSimpleClientset(testPod("api-1", 3, true, now), testPod("web-1", 0, false, now))
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		w := NewWatcher(c, "", "")
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		select {
		case <-w.Batches():
		case <-time.After(10 * time.Second):
			t.Fatal("no batch")
		}
		cancel()
		for range w.Batches() {
		}
		<-done
	}
}
