//go:build fault || scale

package kube

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Helpers of the tests that load or break the real cluster (fault tests
// and the scale benchmark).

// clusterConfig is the admin REST config of the cluster `make test` or
// `make bench` started; without one the test fails, never skips.
func clusterConfig(tb testing.TB) *rest.Config {
	tb.Helper()
	kc := os.Getenv("CRASHLENS_KUBECONFIG")
	if kc == "" {
		tb.Fatal("CRASHLENS_KUBECONFIG is not set: run through `make test` or `make bench`")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// parallel runs fn(i) for i in [0,n) on workers goroutines and returns the
// first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return nil
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
