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
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/report"
)

// TestListAcrossContexts: `list` over three contexts of one kubeconfig,
// two of them the real cluster under different names and one a server
// that refuses connections: the down one is one line on stderr and hides
// nothing, the JSON is the union of the single-context runs with each
// item's cluster, the table leads with CLUSTER, and a selection where
// nothing answers fails.
func TestListAcrossContexts(t *testing.T) {
	admin := clusterKubeconfig(t, "admin")
	cfg, err := clientcmd.LoadFromFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", admin)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	here := cfg.CurrentContext
	cur := cfg.Contexts[here]
	cfg.Contexts["mirror"] = cur.DeepCopy()
	gone := cfg.Clusters[cur.Cluster].DeepCopy()
	gone.Server = "https://127.0.0.1:1" // refused at once
	cfg.Clusters["gone"] = gone
	down := cur.DeepCopy()
	down.Cluster = "gone"
	cfg.Contexts["down"] = down
	path := filepath.Join(t.TempDir(), "fleet-kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}

	ns := newNamespace(t, cs, "it-fleet")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "fleet-crasher"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
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
	for _, c := range []string{here, "mirror"} {
		out, errOut, code := runCLI(t, "--kubeconfig", path, "--context", c, "-n", ns, "list", "-o", "json")
		if code != 0 {
			t.Fatalf("list --context %s: exit %d: %s", c, code, errOut)
		}
		union = append(union, keys(out)...)
	}
	slices.Sort(union)
	if len(union) != 2 {
		t.Fatalf("single-context runs: %v, want the crasher once per context", union)
	}
	out, errOut, code := runCLI(t, "--kubeconfig", path, "--context", here+",mirror,down", "-n", ns, "list", "-o", "json")
	if code != 0 {
		t.Fatalf("list across contexts: exit %d: %s", code, errOut)
	}
	if got := keys(out); !slices.Equal(got, union) {
		t.Errorf("across contexts %v, want the union of single runs %v", got, union)
	}
	if !strings.Contains(errOut, "context down: ") || !strings.Contains(errOut, "127.0.0.1:1") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr should be one line about the down context: %q", errOut)
	}
	table, _, code := runCLI(t, "--kubeconfig", path, "--all-contexts", "-n", ns, "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "CLUSTER") || !strings.HasPrefix(lines[1], "mirror") && !strings.HasPrefix(lines[2], "mirror") {
		t.Errorf("table across contexts (exit %d):\n%s", code, table)
	}
	if _, errOut, code := runCLI(t, "--kubeconfig", path, "--context", "dow*", "list"); code != 1 || !strings.Contains(errOut, "none of the 1 contexts answered") {
		t.Errorf("only a down context: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "--kubeconfig", path, "--context", here+",mirror", "explain", ns+"/fleet-crasher"); code != 1 || !strings.Contains(errOut, "only `crashlens list` and the live view take several") {
		t.Errorf("explain across contexts: exit %d, %q", code, errOut)
	}
}

// TestFleetTUI: the live view over four contexts of one kubeconfig (the
// real cluster as "here" and, through a proxy, as "edge"; "down" refuses
// connections; "rejected" has a token the apiserver rejects; the current
// context is "down"). Every live cluster's groups are listed with their
// CLUSTER, the status bar and the clusters panel say what the other two
// are, the panel picks a cluster filter, the detail opens on that cluster
// and the exec jump runs in the row's context, not the current one.
func TestFleetTUI(t *testing.T) {
	cs := adminClientset(t)
	path, _ := fleetKubeconfig(t)
	ns := newNamespace(t, cs, "it-fleet-tui")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "fleet-crasher"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectlAdmin(t, onceCrashed(ns, "fleet-app"), "apply", "-f", "-")

	bin := buildCrashlens(t, "fleet")
	kubectlDir, _ := filepath.Abs(filepath.Join("hack", "cluster", "bin"))
	x := tmux{t: t, session: fmt.Sprintf("crashlens-fleet-%d", os.Getpid())}
	cmd := fmt.Sprintf("PATH=%s:$PATH %s --kubeconfig %s --context 'here,edge,down,rej*' -n %s; echo CRASHLENS-EXITED-$?; sleep 60", kubectlDir, bin, path, ns)
	x.run("new-session", "-d", "-s", x.session, "-c", t.TempDir(), "-x", "140", "-y", "36", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.session).Run() })

	x.waitFor(15*time.Second, "down reconnecting", "rejected unauthorized")
	s := x.waitFor(120*time.Second, "CLUSTER", "edge ✓ 2", "here ✓ 2", "deploy/fleet-app")
	rows := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "fleet-crasher") || strings.Contains(l, "deploy/fleet-app") {
			rows++
			if !strings.HasPrefix(l, "here ") && !strings.HasPrefix(l, "edge ") {
				t.Errorf("a row without its cluster: %q", l)
			}
		}
	}
	if rows != 4 {
		t.Errorf("%d rows of the two groups, want each in both live clusters:\n%s", rows, s)
	}
	noLogNoise(t, s)

	x.keys("C")
	x.waitFor(5*time.Second, "every cluster", "down  reconnecting: cannot reach https://127.0.0.1:1", "rejected the credentials")
	x.keys("j", "j", "j", "Enter") // every, down, edge, here: in name order
	s = x.waitFor(5*time.Second, "cluster here only")
	if strings.Contains(s, "\nedge ") {
		t.Errorf("the cluster filter still shows edge's rows:\n%s", s)
	}
	x.keys("C", "k", "Enter") // edge
	x.waitFor(5*time.Second, "cluster edge only")
	x.keys("/")
	x.keys("-l", "deploy/fleet-app")
	x.waitForLine(5*time.Second, "/deploy/fleet-app")
	x.keys("Enter")
	x.waitFor(30*time.Second, "/fleet-app-", "cluster edge", "Exit code")
	x.shellRoundTrip("fleet-shell", "cluster edge") // the current context is down: only the row's works
	x.keys("C-c")
	x.waitFor(10*time.Second, "CRASHLENS-EXITED-0")
}

// TestWatchAcrossContexts: `list --watch --webhook` over "here", "edge"
// (the same cluster through a proxy) and "down": each JSON line names its
// cluster, stderr says each cluster's state changes with its name, and the
// webhook gets one post per cluster's group, each naming its cluster.
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
	cs := adminClientset(t)
	path, _ := fleetKubeconfig(t)
	ns := newNamespace(t, cs, "it-fleet-watch")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--kubeconfig", path, "--context", "here,edge,down", "-n", ns, "list", "--watch", "-o", "json",
			"--webhook", hook.URL, "--restart-threshold", "1"}, &stdout, &stderr)
	}()
	waitForText(t, &stderr, 30*time.Second, "watch here: synced", "watch edge: synced", "watch down: reconnecting: cannot reach https://127.0.0.1:1")
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), crashingPod(ns, "watched"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForText(t, &stdout, 60*time.Second, `"cluster":"here"`, `"cluster":"edge"`)
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var line report.WatchLine
		if err := json.Unmarshal([]byte(l), &line); err != nil || (line.Group.Cluster != "here" && line.Group.Cluster != "edge") {
			t.Errorf("a watch line without its cluster (%v): %s", err, l)
		}
	}
	ok := poll(60*time.Second, 200*time.Millisecond, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(titles) >= 2
	})
	mu.Lock()
	got := slices.Clone(titles)
	mu.Unlock()
	slices.Sort(got)
	if !ok || len(got) != 2 || !strings.HasPrefix(got[0], "edge: "+ns+"/Pod/watched is failing") || !strings.HasPrefix(got[1], "here: "+ns+"/Pod/watched is failing") {
		t.Errorf("webhook posts %q, want one per cluster naming it", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("the watch ended with exit %d: %s", code, stderr.String())
	}
}
