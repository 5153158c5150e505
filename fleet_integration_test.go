//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/report"
)

// TestListAcrossContexts: `list` over four contexts of one KUBECONFIG list
// (merged as kubectl merges it): the full cluster, two control-plane-only
// clusters of their own and a server that refuses connections. The down
// one is one line on stderr and hides nothing, the JSON is the union of
// the single-context runs with each item's cluster, the table leads with
// CLUSTER, and a selection where nothing answers fails.
func TestListAcrossContexts(t *testing.T) {
	f := fleetClusters(t)
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-fleet")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "fleet-crasher"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seedCrash(t, f.clientset(t, f.a), ns, "cp-crasher")
	seedCrash(t, f.clientset(t, f.b), ns, "cp-crasher")
	waitCrashing(t, cs, ns+"/")

	keys := func(out string) []string {
		t.Helper()
		var doc struct{ Items []report.GroupJSON }
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("list -o json: %v: %s", err, out)
		}
		var k []string
		for _, g := range doc.Items {
			k = append(k, g.Cluster+"|"+jsonKey(g))
		}
		slices.Sort(k)
		return k
	}
	var union []string
	for _, c := range []string{"here", f.a, f.b} {
		out, errOut, code := f.runCLI(t, "--context", c, "-n", ns, "list", "-o", "json")
		if code != 0 {
			t.Fatalf("list --context %s: exit %d: %s", c, code, errOut)
		}
		union = append(union, keys(out)...)
	}
	slices.Sort(union)
	if len(union) != 3 {
		t.Fatalf("single-context runs: %v, want one crasher per cluster", union)
	}
	out, errOut, code := f.runCLI(t, "--context", "here,"+f.a+","+f.b+",down", "-n", ns, "list", "-o", "json")
	if code != 0 {
		t.Fatalf("list across contexts: exit %d: %s", code, errOut)
	}
	if got := keys(out); !slices.Equal(got, union) {
		t.Errorf("across contexts %v, want the union of single runs %v", got, union)
	}
	if !strings.Contains(errOut, "context down: ") || !strings.Contains(errOut, "127.0.0.1:1") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr should be one line about the down context: %q", errOut)
	}
	// Every context: here and crashlens-admin (the full cluster twice),
	// both instances, and down and rejected, which only say why on stderr.
	table, errOut, code := f.runCLI(t, "--all-contexts", "-n", ns, "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "CLUSTER") || !strings.Contains(table, "\n"+f.b+" ") || !strings.Contains(errOut, "context rejected: ") {
		t.Errorf("table across every context (exit %d):\n%s\nstderr: %s", code, table, errOut)
	}
	if _, errOut, code := f.runCLI(t, "--context", "dow*", "list"); code != 1 || !strings.Contains(errOut, "none of the 1 contexts answered") {
		t.Errorf("only a down context: exit %d, %q", code, errOut)
	}
	if _, errOut, code := f.runCLI(t, "--context", "here,"+f.a, "explain", ns+"/fleet-crasher"); code != 1 || !strings.Contains(errOut, "this command looks at one cluster (the TUI, list, list --watch and history take several)") {
		t.Errorf("explain across contexts: exit %d, %q", code, errOut)
	}
}

// TestFleetTUI: the live view over five contexts of a KUBECONFIG list
// (three clusters: the full one as "here", and two control-plane-only ones
// with a crash each; "down" refuses connections; "rejected" has a token its
// apiserver rejects; the current context is "down"). Every live cluster's
// groups are listed with their CLUSTER, the status bar and the clusters
// panel say what the other two are, the panel picks a cluster filter, the
// detail opens on the full cluster and the exec jump runs in the row's
// context, not the current one.
func TestFleetTUI(t *testing.T) {
	f := fleetClusters(t)
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-fleet-tui")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "fleet-crasher"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clustertest.Kubectl(t, onceCrashed(ns, "fleet-app"), "apply", "-f", "-")
	seedCrash(t, f.clientset(t, f.a), ns, "cp-crasher-a")
	seedCrash(t, f.clientset(t, f.b), ns, "cp-crasher-b")

	bin := clustertest.BuildCrashlens(t, "fleet")
	kubectlDir := clustertest.BinDir(t)
	x := clustertest.Tmux{TB: t, Session: fmt.Sprintf("crashlens-fleet-%d", os.Getpid())}
	cmd := fmt.Sprintf("PATH=%s:$PATH KUBECONFIG=%s %s --context 'here,fleet-*,down,rej*' -n %s; echo CRASHLENS-EXITED-$?; sleep 60", kubectlDir, f.kubeconfig, bin, ns)
	x.Run("new-session", "-d", "-s", x.Session, "-c", t.TempDir(), "-x", "160", "-y", "36", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.Session).Run() })

	x.WaitFor(15*time.Second, "down reconnecting", "rejected unauthorized")
	s := x.WaitFor(120*time.Second, "CLUSTER", "here ✓ 2", f.a+" ✓ 1", f.b+" ✓ 1", "deploy/fleet-app")
	want := map[string]string{"fleet-crasher": "here", "deploy/fleet-app": "here", "cp-crasher-a": f.a, "cp-crasher-b": f.b}
	for _, l := range strings.Split(s, "\n") {
		for group, cluster := range want {
			if strings.Contains(l, group) {
				if !strings.HasPrefix(l, cluster+" ") {
					t.Errorf("the row of %s is not on %s: %q", group, cluster, l)
				}
				delete(want, group)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v\n%s", want, s)
	}
	noLogNoise(t, s)

	x.Keys("C")
	x.WaitFor(5*time.Second, "every cluster", "down  reconnecting: cannot reach https://127.0.0.1:1", "rejected the credentials")
	x.Keys("j", "j", "j", "j", "Enter") // every, down, fleet-a, fleet-b, here: in name order
	s = x.WaitFor(5*time.Second, "cluster here only")
	if strings.Contains(s, "\n"+f.a+" ") || strings.Contains(s, "cp-crasher") {
		t.Errorf("the cluster filter still shows another cluster's rows:\n%s", s)
	}
	x.Keys("C", "k", "Enter") // fleet-b
	s = x.WaitFor(5*time.Second, "cluster "+f.b+" only", "cp-crasher-b")
	if strings.Contains(s, "fleet-crasher") || strings.Contains(s, "cp-crasher-a") {
		t.Errorf("the cluster filter for %s shows another cluster's rows:\n%s", f.b, s)
	}
	x.Keys("C", "k", "k", "k", "Enter") // every cluster
	x.WaitFor(5*time.Second, "cp-crasher-a", "fleet-crasher")
	x.Keys("/")
	x.Keys("-l", "deploy/fleet-app")
	x.WaitForLine(5*time.Second, "/deploy/fleet-app")
	x.Keys("Enter")
	x.WaitFor(30*time.Second, "/fleet-app-", "cluster here", "Exit code")
	shellRoundTrip(x, "fleet-shell", "cluster here") // the current context is down: only the row's works
	x.Keys("C-c")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
}

// TestWatchAcrossContexts: `list --watch --webhook` over "here" (the full
// cluster), both control-plane-only clusters and "down": each JSON line
// names its cluster, stderr says each cluster's state changes with its
// name, and the webhook gets one post per cluster's group, each naming its
// cluster.
func TestWatchAcrossContexts(t *testing.T) {
	var mu sync.Mutex
	var titles []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		titles = append(titles, body.Text)
		mu.Unlock()
	}))
	defer hook.Close()
	f := fleetClusters(t)
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-fleet-watch")
	t.Setenv("KUBECONFIG", f.kubeconfig)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr clustertest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--context", "here," + f.a + "," + f.b + ",down", "-n", ns, "list", "--watch", "-o", "json",
			"--webhook", hook.URL, "--restart-threshold", "1"}, &stdout, &stderr)
	}()
	clustertest.WaitForText(t, &stderr, 30*time.Second, "watch here: synced", "watch "+f.a+": synced", "watch "+f.b+": synced", "watch down: reconnecting: cannot reach https://127.0.0.1:1")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "watched"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seedCrash(t, f.clientset(t, f.a), ns, "watched")
	seedCrash(t, f.clientset(t, f.b), ns, "watched")
	clustertest.WaitForText(t, &stdout, 60*time.Second, `"cluster":"here"`, `"cluster":"`+f.a+`"`, `"cluster":"`+f.b+`"`)
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var line report.WatchLine
		if err := json.Unmarshal([]byte(l), &line); err != nil || !slices.Contains([]string{"here", f.a, f.b}, line.Group.Cluster) {
			t.Errorf("a watch line without its cluster (%v): %s", err, l)
		}
	}
	ok := clustertest.Poll(60*time.Second, 200*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(titles) >= 3
	})
	mu.Lock()
	got := slices.Clone(titles)
	mu.Unlock()
	slices.Sort(got)
	var want []string
	for _, c := range []string{f.a, f.b, "here"} {
		want = append(want, c+": "+ns+"/Pod/watched is failing")
	}
	if !ok || len(got) != 3 {
		t.Fatalf("webhook posts %q, want one per cluster naming it", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("webhook post %q, want it to start %q", got[i], want[i])
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("the watch ended with exit %d: %s", code, stderr.String())
	}
}
