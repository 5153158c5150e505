package clustertest

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
)

// Scenarios applies the demo catalogue (reusing what exists) and waits
// until every scenario is in its declared state; it returns an admin
// clientset. It does both on every call: a test before may have broken
// the cluster (the fault tests restart its apiserver).
func Scenarios(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	if _, err := demo.Up(context.Background(), demo.Options{Root: RepoRoot(tb), BackoffCap: "10s", Fast: true}); err != nil {
		tb.Fatal(err)
	}
	cs := AdminClientset(tb)
	if pending := demo.Wait(context.Background(), cs, demo.Catalogue, 4*time.Minute, nil); len(pending) > 0 {
		tb.Fatalf("scenarios not ready: %v", pending)
	}
	return cs
}

// scenariosReady says that ScenariosOnce applied the catalogue in this
// test binary.
var scenariosReady struct {
	sync.Mutex
	done bool
}

// ScenariosOnce is Scenarios for tests that leave the cluster as they
// found it (every integration test; the fault tests, which break it, call
// Scenarios): the first call in a test binary applies the catalogue and
// waits for it, the later ones only return an admin clientset. Each
// Scenarios call re-runs the tooling's checks, the static build, the image
// imports and every apply, which a loaded machine pays for in minutes.
func ScenariosOnce(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	scenariosReady.Lock()
	defer scenariosReady.Unlock()
	if scenariosReady.done {
		return AdminClientset(tb)
	}
	cs := Scenarios(tb)
	scenariosReady.done = true
	return cs
}

// ScenarioPod is a pod of the named demo scenario in the state the
// scenario declares: failing when it crashes, healthy when it does not.
func ScenarioPod(tb testing.TB, c kubernetes.Interface, name string) *corev1.Pod {
	tb.Helper()
	for _, s := range demo.Catalogue {
		if s.Name != name {
			continue
		}
		obs, err := demo.Observe(context.Background(), c, s)
		if err != nil {
			tb.Fatal(err)
		}
		for i := range obs.Pods {
			if diagnose.Classify(&obs.Pods[i], time.Now()).Failing == s.Crashing() {
				return &obs.Pods[i]
			}
		}
	}
	tb.Fatalf("no pod for scenario %s", name)
	return nil
}
