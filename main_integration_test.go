//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/report"
)

func TestRootConnectsToRealCluster(t *testing.T) {
	for _, user := range []string{"admin", "viewer-ns"} {
		t.Run(user, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"--kubeconfig", clustertest.Kubeconfig(t, user), "--request-timeout", "5s"}, &stdout, &stderr)
			// Connected, then refused to draw a TUI on a pipe, in one line
			// (viewer-ns first hears that it falls back to its namespace).
			wantLines := 1
			if user == "viewer-ns" {
				wantLines = 2
				if !strings.Contains(stderr.String(), "forbidden to list pods cluster-wide; watching namespace team-a") {
					t.Errorf("viewer-ns was not told about the fallback: %q", stderr.String())
				}
			}
			if code != exitError || strings.Count(stderr.String(), "\n") != wantLines {
				t.Fatalf("exit %d: %q", code, stderr.String())
			}
			for _, want := range []string{"connected to https://127.0.0.1:16443", "needs a terminal"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			}
		})
	}
}

func TestBadTokenIsOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--kubeconfig", clustertest.Kubeconfig(t, "admin"), "--token", "not-a-valid-token"}, &stdout, &stderr)
	if code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rejected the credentials") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q, want one line saying the credentials were rejected", stderr.String())
	}
}

// TestListShowsEveryCrashingScenario: list -o json has every crashing
// scenario with its reason and exit code, and no healthy workload.
func TestListShowsEveryCrashingScenario(t *testing.T) {
	clustertest.ScenariosOnce(t)
	out, errOut, code := runCLI(t, "list", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list struct{ Items []report.GroupJSON }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	for _, s := range demo.Catalogue {
		if s.ListedOnTheClock() {
			continue
		}
		var found *report.GroupJSON
		for i := range list.Items {
			if list.Items[i].Namespace == s.Namespace && list.Items[i].Workload == s.Owner() {
				found = &list.Items[i]
			}
		}
		if (found != nil) != s.Crashing() {
			t.Errorf("%s: listed=%v, want %v", s.Name, found != nil, s.Crashing())
			continue
		}
		if found != nil && s.Expect.ExitCode != nil && found.ExitCode != *s.Expect.ExitCode {
			t.Errorf("%s: exit %d, want %d", s.Name, found.ExitCode, *s.Expect.ExitCode)
		}
	}
	if _, _, code := runCLI(t, "list", "--fail-on-crash"); code != exitCrash {
		t.Errorf("--fail-on-crash exit %d, want %d", code, exitCrash)
	}
}

// TestExplainPatchFixesSeed01 runs seed 01's bad Deployment in its own
// namespace, explains its pod, applies the patch the report proposes, and
// expects the new pod Ready with no restarts.
func TestExplainPatchFixesSeed01(t *testing.T) {
	ns := fmt.Sprintf("it-explain-%d", time.Now().UnixNano()%1000000)
	clustertest.Kubectl(t, "", "create", "namespace", ns)
	defer clustertest.Kubectl(t, "", "delete", "namespace", ns, "--wait=false")
	raw, err := os.ReadFile(filepath.Join("demo", "scenarios", "01-probe-mixup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	bad := strings.ReplaceAll(docs[1], "namespace: gateway", "namespace: "+ns)
	clustertest.Kubectl(t, bad, "apply", "-f", "-")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out := clustertest.Kubectl(t, "", "-n", ns, "get", "pods", "-o", "jsonpath={.items[*].status.containerStatuses[0].restartCount}")
		if f := strings.Fields(out); len(f) > 0 && f[0] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bad Deployment never restarted")
		}
		time.Sleep(2 * time.Second)
	}
	md, errOut, code := runCLI(t, "explain", "-n", ns, "deploy/probe-mixup-bad")
	if code != exitOK {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	for _, want := range []string{"`liveness-kill`", "`probe-liveness-shares-readiness`", "Container app failed liveness probe", "warming up for 30s", "+    path: /healthz"} {
		if !strings.Contains(md, want) {
			t.Errorf("explain lacks %q", want)
		}
	}
	var patch string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "kubectl -n "+ns+" patch deployment probe-mixup-bad --type strategic -p '") {
			patch = strings.TrimSuffix(strings.TrimPrefix(line, "kubectl -n "+ns+" patch deployment probe-mixup-bad --type strategic -p '"), "'")
		}
	}
	if patch == "" {
		t.Fatal("no kubectl patch command in the report")
	}
	clustertest.Kubectl(t, "", "-n", ns, "patch", "deployment", "probe-mixup-bad", "--type", "strategic", "-p", patch)
	clustertest.Kubectl(t, "", "-n", ns, "rollout", "status", "deployment/probe-mixup-bad", "--timeout=150s")
	var pods struct {
		Items []struct {
			Metadata struct{ DeletionTimestamp *time.Time }
			Status   struct {
				ContainerStatuses []struct {
					Ready        bool
					RestartCount int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(clustertest.Kubectl(t, "", "-n", ns, "get", "pods", "-o", "json")), &pods); err != nil {
		t.Fatal(err)
	}
	fixed := false
	for _, p := range pods.Items {
		cs := p.Status.ContainerStatuses
		fixed = fixed || (p.Metadata.DeletionTimestamp == nil && len(cs) == 1 && cs[0].Ready && cs[0].RestartCount == 0)
	}
	if !fixed {
		t.Errorf("after the patch no pod is Ready with 0 restarts: %+v", pods.Items)
	}
	js, _, code := runCLI(t, "explain", "-n", ns, "deploy/probe-mixup-bad", "-o", "json")
	var parsed struct{ Report diagnose.Report }
	if code != exitOK || json.Unmarshal([]byte(js), &parsed) != nil || parsed.Report.Pod.Container != "app" {
		t.Errorf("explain -o json: exit %d, %.200s", code, js)
	}
}

// TestWatchAndWebhook: list --watch emits a line when a crashing
// Deployment appears and when it goes; the webhook gets exactly one post
// per group per mute window; a failing webhook does not stop the watch.
func TestWatchAndWebhook(t *testing.T) {
	var posts atomic.Int32
	var failing atomic.Bool
	failing.Store(true)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if failing.Load() {
			failing.Store(false) // the first post fails, the retry succeeds
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if strings.Contains(string(body), "it-webhook") {
			posts.Add(1)
		}
	}))
	defer hook.Close()

	ns := fmt.Sprintf("it-webhook-%d", time.Now().UnixNano()%1000000)
	clustertest.Kubectl(t, "", "create", "namespace", ns)
	defer clustertest.Kubectl(t, "", "delete", "namespace", ns, "--wait=false")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr clustertest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--kubeconfig", clustertest.Kubeconfig(t, "admin"), "list", "--watch", "-o", "json",
			"--webhook", hook.URL + "/services/secret-token", "--restart-threshold", "2", "--mute-for", "10m"}, &stdout, &stderr)
	}()
	time.Sleep(2 * time.Second)
	clustertest.Kubectl(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: crasher, namespace: %s}
spec:
  selector: {matchLabels: {app: crasher}}
  template:
    metadata: {labels: {app: crasher}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: app, image: crashlens.local/busybox:latest, imagePullPolicy: Never, command: [sh, -c, "echo boom; exit 5"]}
`, ns), "apply", "-f", "-")
	clustertest.WaitForText(t, &stdout, 60*time.Second, `"event":"added"`, `"namespace":"`+ns+`"`)
	deadline := time.Now().Add(90 * time.Second)
	for posts.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	if posts.Load() != 1 {
		t.Fatalf("%d webhook posts for the group, want 1; stderr:\n%s", posts.Load(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "HTTP 500") || strings.Contains(stderr.String(), "secret-token") {
		t.Errorf("the failed attempt is not logged, or the token leaked:\n%s", stderr.String())
	}
	// More restarts within the mute window: no more posts.
	time.Sleep(25 * time.Second)
	if posts.Load() != 1 {
		t.Errorf("%d posts within the mute window, want 1", posts.Load())
	}
	clustertest.Kubectl(t, "", "-n", ns, "delete", "deployment", "crasher")
	clustertest.WaitForText(t, &stdout, 60*time.Second, `"event":"resolved"`)
	select {
	case code := <-done:
		t.Fatalf("the watch stopped on its own with exit %d", code)
	default:
	}
	cancel()
	<-done
}
