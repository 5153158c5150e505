//go:build integration

package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
