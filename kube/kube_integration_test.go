//go:build integration

package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
)

// clusterClient returns a client for the test cluster as user, with the
// demo scenarios applied and settled.
func clusterClient(t *testing.T, user string) (kubernetes.Interface, string) {
	t.Helper()
	admin := os.Getenv("CRASHLENS_KUBECONFIG")
	if admin == "" {
		t.Fatal("CRASHLENS_KUBECONFIG is not set: run integration tests through `make test`")
	}
	path := admin
	if user != "admin" {
		path = filepath.Join(filepath.Dir(admin), "kubeconfig-"+user)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClientset(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c, path
}

var scenariosReady = false

func applyScenarios(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	if scenariosReady {
		return
	}
	root, _ := filepath.Abs("..")
	if _, err := demo.Up(context.Background(), demo.Options{Root: root, BackoffCap: "10s", Fast: true}); err != nil {
		t.Fatal(err)
	}
	if pending := demo.Wait(context.Background(), c, demo.Catalogue, 4*time.Minute, nil); len(pending) > 0 {
		t.Fatalf("scenarios not ready: %v", pending)
	}
	scenariosReady = true
}

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
	c, _ := clusterClient(t, "admin")
	applyScenarios(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, path := clusterClient(t, "admin")
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewSlimWatcher(ClientConfig(cfg, "test"), "", "") // as every command watches
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	want := map[string]demo.Scenario{}
	for _, s := range demo.Catalogue {
		kind, name, _ := strings.Cut(s.Workload, "/")
		if kind == "deploy" {
			want["Deployment/"+name] = s
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
	kubectl(t, `apiVersion: apps/v1
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
	kubectl(t, "", "-n", ns, "delete", "deployment", "flaky", "--wait=false")
	groupsUntil(t, w, 60*time.Second, func(v map[string]crash.Group) bool {
		_, ok := findGroup(v, ns, "Deployment/flaky")
		return !ok
	})
}

func scenarioPod(t *testing.T, c kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	for _, s := range demo.Catalogue {
		if s.Name != name {
			continue
		}
		obs, err := demo.Observe(context.Background(), c, s)
		if err != nil {
			t.Fatal(err)
		}
		for i := range obs.Pods {
			if diagnose.Classify(&obs.Pods[i], time.Now()).Failing == s.Crashing() {
				return &obs.Pods[i]
			}
		}
	}
	t.Fatalf("no pod for scenario %s", name)
	return nil
}

func TestDetailCalls(t *testing.T) {
	c, _ := clusterClient(t, "admin")
	applyScenarios(t, c)
	ctx := context.Background()
	pod := scenarioPod(t, c, "probe-mixup-bad")
	owners, err := OwnerChain(ctx, c, pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(owners.Chain) != 2 || owners.Chain[1] != "Deployment/probe-mixup-bad" || owners.Deployment == nil || len(owners.ReplicaSets) == 0 {
		t.Errorf("owners %+v", owners)
	}
	events, err := Events(ctx, c, pod.Namespace, pod.Name, owners.Chain)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || (e.Reason == "Killing" && strings.Contains(e.Message, "failed liveness probe"))
	}
	if !found {
		t.Errorf("no Killing event among %d", len(events))
	}
	log, err := PreviousLog(ctx, c, pod.Namespace, pod.Name, "app")
	if err != nil || !strings.Contains(log, "warming up for 30s") {
		t.Errorf("previous log %q, %v", log, err)
	}
	if d := BackoffCap(ctx, c, pod.Spec.NodeName); d != 10*time.Second {
		t.Errorf("back-off cap %s, want the node's 10s", d)
	}
	healthy := scenarioPod(t, c, "healthy")
	if _, err := PreviousLog(ctx, c, healthy.Namespace, healthy.Name, "web"); !errors.Is(err, ErrNoPreviousLog) {
		t.Errorf("previous log of a container that never restarted: %v, want ErrNoPreviousLog", err)
	}
}

func TestRestrictedUsers(t *testing.T) {
	admin, _ := clusterClient(t, "admin")
	applyScenarios(t, admin)
	ctx := context.Background()
	pod := scenarioPod(t, admin, "missing-script")

	viewer, _ := clusterClient(t, "viewer-ns")
	scope, err := ResolveScope(ctx, viewer, Target{ContextNamespace: "team-a"})
	if err != nil || scope.Namespace != "team-a" || !strings.Contains(scope.Note, "forbidden to list pods cluster-wide") {
		t.Errorf("viewer-ns scope %+v, %v", scope, err)
	}
	full, err := ResolveScope(ctx, admin, Target{ContextNamespace: "default"})
	if err != nil || full.Namespace != "" || full.Note != "" {
		t.Errorf("admin scope %+v, %v", full, err)
	}

	noLogs, _ := clusterClient(t, "no-logs")
	if _, err := PreviousLog(ctx, noLogs, pod.Namespace, pod.Name, "checkoutservice"); !errors.Is(err, ErrForbidden) {
		t.Errorf("no-logs previous log: %v, want forbidden", err)
	}
	if evs, err := Events(ctx, noLogs, pod.Namespace, pod.Name, nil); err != nil || len(evs) == 0 {
		t.Errorf("no-logs still reads events: %d, %v", len(evs), err)
	}
	noEvents, _ := clusterClient(t, "no-events")
	if _, err := Events(ctx, noEvents, pod.Namespace, pod.Name, nil); !errors.Is(err, ErrForbidden) {
		t.Errorf("no-events events: %v, want forbidden", err)
	}
	if log, err := PreviousLog(ctx, noEvents, pod.Namespace, pod.Name, "checkoutservice"); err != nil || !strings.Contains(log, "currency_script.sh") {
		t.Errorf("no-events still reads logs: %q, %v", log, err)
	}
}

// kubectl runs the cluster's kubectl as admin, with stdin when non-empty.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "hack", "cluster", "bin", "kubectl"), append([]string{"--kubeconfig", os.Getenv("CRASHLENS_KUBECONFIG")}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v: %s", args, err, out)
	}
	return string(out)
}

func TestArgvBuildersWork(t *testing.T) {
	c, kubeconfig := clusterClient(t, "admin")
	applyScenarios(t, c)
	// A kubectl found through a relative PATH entry is refused (exec.ErrDot).
	t.Setenv("PATH", filepath.Join("..", "hack", "cluster", "bin"))
	if _, err := FindKubectl(); !errors.Is(err, ErrNoKubectl) {
		t.Errorf("kubectl through a relative PATH entry: %v, want refused", err)
	}
	bin, _ := filepath.Abs(filepath.Join("..", "hack", "cluster", "bin"))
	t.Setenv("PATH", bin)
	kc, err := FindKubectl()
	if err != nil {
		t.Fatal(err)
	}
	pod := scenarioPod(t, c, "healthy")
	k := KubectlArgs{Kubeconfig: kubeconfig}
	cmd := exec.Command(kc, k.Exec(pod.Namespace, pod.Name, "web")...)
	cmd.Stdin = strings.NewReader("echo argv-exec-ok from $(hostname)\nexit\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "argv-exec-ok from "+pod.Name) {
		t.Errorf("exec: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd = exec.CommandContext(ctx, kc, k.Logs(pod.Namespace, pod.Name, "web")...)
	cmd.Stdout = &logs
	_ = cmd.Run() // killed by the timeout: logs -f follows until then
	if !strings.Contains(logs.String(), "serving on 8080") {
		t.Errorf("logs -f printed %q", logs.String())
	}
	if !strings.Contains(strings.Join(k.Describe("ns", "p"), " "), "--kubeconfig "+kubeconfig+" -n ns describe pod p") {
		t.Errorf("describe argv %v", k.Describe("ns", "p"))
	}
}

// TestSlimDecoderAgreesOnTheCluster: every pod of the real cluster (the
// catalogue's crash loops and the healthy ones), listed at one resource
// version through the full decoder and through the watcher's slim one
// (the LIST response streamed pod by pod, as the watcher reads it):
// the slim pod is exactly the full pod's fields that Classify reads, and
// the rulebook's verdicts are the same.
func TestSlimDecoderAgreesOnTheCluster(t *testing.T) {
	c, path := clusterClient(t, "admin")
	applyScenarios(t, c)
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	full, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slim, err := newSlimPods(ClientConfig(cfg, "test"))
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
