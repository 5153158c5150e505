//go:build integration

package podwatch

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
)

// groupsUntil reads batches until done says the view is complete.
func groupsUntil(t *testing.T, w *Watcher, timeout time.Duration, done func(map[string]crash.Group) bool) map[string]crash.Group {
	t.Helper()
	view := map[string]crash.Group{}
	deadline := time.After(timeout)
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatal("watcher stopped")
			}
			for _, k := range b.Removed {
				delete(view, k)
			}
			for _, g := range b.Upserted {
				view[g.Key] = g
			}
			if done(view) {
				return view
			}
		case <-deadline:
			t.Fatalf("view not complete within %s: %d groups", timeout, len(view))
		}
	}
}

func findGroup(view map[string]crash.Group, ns, owner string) (crash.Group, bool) {
	for _, g := range view {
		if g.Namespace == ns && g.Owner == owner {
			return g, true
		}
	}
	return crash.Group{}, false
}

func TestWatcherSeesEveryScenario(t *testing.T) {
	c := clustertest.ClientsetAs(t, "admin", kube.NewClientset)
	clustertest.ScenariosOnce(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := clustertest.Config(t, "admin")
	w, err := NewSlimWatcher(kube.ClientConfig(cfg, "test"), "", "") // as every command watches
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	want := map[string]demo.Scenario{}
	for _, s := range demo.Catalogue {
		if !s.ListedOnTheClock() {
			want[s.Owner()] = s
		}
	}
	view := groupsUntil(t, w, 30*time.Second, func(v map[string]crash.Group) bool {
		for owner, s := range want {
			if _, ok := findGroup(v, s.Namespace, owner); ok != s.Crashing() {
				return false
			}
		}
		return true
	})
	for owner, s := range want {
		g, ok := findGroup(view, s.Namespace, owner)
		if ok != s.Crashing() {
			t.Errorf("%s/%s: listed=%v, want %v", s.Namespace, owner, ok, s.Crashing())
			continue
		}
		if ok && s.Expect.ExitCode != nil && g.ExitCode != *s.Expect.ExitCode {
			t.Errorf("%s/%s: exit %d, want %d", s.Namespace, owner, g.ExitCode, *s.Expect.ExitCode)
		}
		if ok && g.Container != s.Expect.Container {
			t.Errorf("%s/%s: container %s, want %s", s.Namespace, owner, g.Container, s.Expect.Container)
		}
	}
	for _, g := range view {
		if g.Namespace == "storefront" || g.Owner == "Deployment/probe-mixup-good" {
			t.Errorf("healthy workload listed: %+v", g)
		}
	}

	// A new crashing Deployment appears within a batch or two of the
	// cluster showing it, and its group goes when it is deleted.
	ns := fmt.Sprintf("it-watch-%d", time.Now().UnixNano()%1000000)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer c.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	clustertest.Kubectl(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: flaky, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: flaky}}
  template:
    metadata: {labels: {app: flaky}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: app, image: crashlens.local/busybox:latest, imagePullPolicy: Never, command: [sh, -c, "echo boom; exit 4"]}
`, "apply", "-f", "-")
	var shownAt time.Time
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil && len(pods.Items) > 0 {
			if diagnose.Classify(&pods.Items[0], time.Now()).Failing {
				shownAt = time.Now()
				break
			}
		}
	}
	if shownAt.IsZero() {
		t.Fatal("the cluster never showed the new pod crashing")
	}
	groupsUntil(t, w, 2*time.Second, func(v map[string]crash.Group) bool {
		g, ok := findGroup(v, ns, "Deployment/flaky")
		return ok && g.ExitCode == 4
	})
	t.Logf("new crash group delivered %s after the API showed it", time.Since(shownAt).Round(time.Millisecond))
	clustertest.Kubectl(t, "", "-n", ns, "delete", "deployment", "flaky", "--wait=false")
	groupsUntil(t, w, 60*time.Second, func(v map[string]crash.Group) bool {
		_, ok := findGroup(v, ns, "Deployment/flaky")
		return !ok
	})
}

// TestSlimDecoderAgreesOnTheCluster: every pod of the real cluster (the
// catalogue's crash loops and the healthy ones), listed at one resource
// version through the full decoder and through the watcher's slim one
// (the LIST response streamed pod by pod, as the watcher reads it):
// the slim pod is exactly the full pod's fields that Classify reads, and
// the rulebook's verdicts are the same.
func TestSlimDecoderAgreesOnTheCluster(t *testing.T) {
	c := clustertest.ClientsetAs(t, "admin", kube.NewClientset)
	clustertest.ScenariosOnce(t)
	cfg := clustertest.Config(t, "admin")
	ctx := context.Background()
	full, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slim, err := newSlimPods(kube.ClientConfig(cfg, "test"))
	if err != nil {
		t.Fatal(err)
	}
	// One page at the full list's version, so both are the same snapshot.
	got := &corev1.PodList{}
	meta, err := slim.listPage(ctx, "", metav1.ListOptions{ResourceVersion: full.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact},
		func(p *corev1.Pod) { got.Items = append(got.Items, *p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != len(full.Items) || len(got.Items) < 30 || meta.ResourceVersion != full.ResourceVersion {
		t.Fatalf("%d slim pods at %q, %d full ones at %q", len(got.Items), meta.ResourceVersion, len(full.Items), full.ResourceVersion)
	}
	// The watcher's List, page by page at the most recent version: a stub
	// per pod it handed on, and a version no older than the full list's.
	var listed int
	obj, err := slim.List(ctx, "", metav1.ListOptions{ResourceVersion: "0"}, func(*corev1.Pod) { listed++ })
	if err != nil {
		t.Fatal(err)
	}
	stubs := obj.(*metav1.PartialObjectMetadataList)
	rv, _ := strconv.ParseUint(stubs.ResourceVersion, 10, 64)
	fullRV, _ := strconv.ParseUint(full.ResourceVersion, 10, 64)
	if listed < listFirstPage/20 || len(stubs.Items) != listed || rv < fullRV || stubs.Continue != "" {
		t.Errorf("List: %d pods, %d stubs at %q (continue %q); the full list had %d at %q", listed, len(stubs.Items), stubs.ResourceVersion, stubs.Continue, len(full.Items), full.ResourceVersion)
	}
	now := time.Now()
	failing := 0
	for i := range full.Items {
		want := slimView(&full.Items[i])
		if !reflect.DeepEqual(&got.Items[i], want) {
			t.Errorf("%s/%s: slim %+v\nfull %+v", want.Namespace, want.Name, got.Items[i], want)
		}
		a, b := diagnose.Classify(&full.Items[i], now), diagnose.Classify(&got.Items[i], now)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s/%s: verdicts differ: full %+v, slim %+v", want.Namespace, want.Name, a, b)
		}
		if a.Failing {
			failing++
		}
	}
	t.Logf("%d pods agree, %d of them failing", len(full.Items), failing)
}
