//go:build integration

package main

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/clusters"
)

// Whole sessions of the real binary, counted in the test apiserver's audit
// log: what crashlens asks of a cluster, and how often.

// readOnly says whether a request writes nothing: reads, and the access
// reviews that answer "may I?" without storing anything.
func readOnly(e clustertest.AuditEvent) bool {
	switch e.Verb {
	case "get", "list", "watch":
		return true
	case "create":
		r := e.Resource()
		return r == "selfsubjectaccessreviews" || r == "selfsubjectrulesreviews"
	}
	return false
}

// tally counts requests by verb and resource, for the test log.
func tally(evs []clustertest.AuditEvent) string {
	n := map[string]int{}
	for _, e := range evs {
		n[fmt.Sprintf("%s %s %d", e.Verb, e.Resource(), e.Code())]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %3d × %s\n", n[k], k)
	}
	return b.String()
}

// TestSessionOnlyReads: a full session (the TUI's list, filter, detail with
// every pane, a live log follow and a report; then list, list --watch and
// explain) sends the cluster only reads, and never touches a Secret.
func TestSessionOnlyReads(t *testing.T) {
	clustertest.ScenariosOnce(t)
	version := fmt.Sprintf("audit-%d", time.Now().UnixNano())
	bin := clustertest.BuildCrashlens(t, version)
	kc := clustertest.Kubeconfig(t, "admin")
	mark := clustertest.AuditMark(t)

	x := startTUI(t, bin, "--kubeconfig", kc)
	waitStatus(x, 30*time.Second, "synced")
	x.Keys("/")
	x.Keys("-l", "probe-mixup-bad")
	x.WaitForLine(5*time.Second, "/probe-mixup-bad")
	x.Keys("Enter")
	x.WaitFor(30*time.Second, "Killing", "/readyz → /healthz", "warming up for 30s")
	x.Keys("l")
	time.Sleep(3 * time.Second)
	x.Keys("r")
	x.WaitFor(10*time.Second, "report written to")
	x.Keys("C-c")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")

	for _, args := range [][]string{{"list", "-o", "json"}, {"list", "-o", "wide"}, {"explain", "-n", "gateway", "deploy/probe-mixup-bad"}} {
		if out, err := exec.Command(bin, append([]string{"--kubeconfig", kc}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	w := startWatch(t, bin, kc)
	w.waitState(30*time.Second, "synced", 1)
	time.Sleep(2 * time.Second)

	// The screen's requests and the crash capture's (its own User-Agent).
	evs := clustertest.AuditSince(t, mark, kube.UserAgent(version), kube.UserAgent(version)+clusters.CaptureAgentSuffix)
	t.Logf("%d requests from crashlens/%s:\n%s", len(evs), version, tally(evs))
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e.Verb+" "+e.Resource()] = true
		if !readOnly(e) {
			t.Errorf("crashlens wrote to the cluster: %s %s", e.Verb, e.RequestURI)
		}
		if e.Resource() == "secrets" {
			t.Errorf("crashlens read a Secret: %s %s", e.Verb, e.RequestURI)
		}
	}
	// The session did what it should (else "only reads" proves nothing).
	for _, want := range []string{"watch pods", "get pods", "get pods/log", "list events", "get deployments", "list replicasets"} {
		if !seen[want] {
			t.Errorf("the session never did %q", want)
		}
	}
}

// TestRestrictedUsersSessions: each restricted user gets a working TUI
// whose forbidden part says so in its own pane, `explain` still reports,
// and nobody's session turns a 403 into a retry storm: the requests of a
// 20-second session are counted.
func TestRestrictedUsersSessions(t *testing.T) {
	cs := clustertest.ScenariosOnce(t)
	ctx := context.Background()
	// viewer-ns may read team-a only: give it a crash there.
	_ = cs.CoreV1().Pods("team-a").Delete(ctx, "restricted-crash", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	time.Sleep(time.Second)
	if _, err := cs.CoreV1().Pods("team-a").Create(ctx, crashingPod("team-a", "restricted-crash"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer cs.CoreV1().Pods("team-a").Delete(ctx, "restricted-crash", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	waitCrashing(t, cs, "team-a/Pod/restricted-crash/")

	version := fmt.Sprintf("restricted-%d", time.Now().UnixNano())
	bin := clustertest.BuildCrashlens(t, version)
	for _, tc := range []struct {
		user, filter string
		detail       []string // what the detail screen shows
		explain      string   // what explain's report says
		explainArgs  []string
	}{
		{user: "viewer-ns", filter: "restricted-crash", detail: []string{"fatal: restricted-crash", "BackOff"},
			explain: "fatal: restricted-crash", explainArgs: []string{"team-a/restricted-crash"}},
		{user: "no-logs", filter: "checkoutservice", detail: []string{"forbidden: you may not get pods/log in namespace demo-ng", "BackOff"},
			explain: "forbidden: you may not get pods/log", explainArgs: []string{"-n", "demo-ng", "deploy/checkoutservice"}},
		{user: "no-events", filter: "checkoutservice", detail: []string{"forbidden: you may not list events in namespace demo-ng", "currency_script.sh"},
			explain: "forbidden: you may not list events", explainArgs: []string{"-n", "demo-ng", "deploy/checkoutservice"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			kc := clustertest.Kubeconfig(t, tc.user)
			mark := clustertest.AuditMark(t)
			start := time.Now()
			// The count is the TUI's own: the crash capture (which runs with
			// or without a ledger, and sends its own User-Agent) has its own
			// budget (4 captures a second, see kube/capture/capture.go) and captures
			// every crash group the user can see at start; it is held below
			// to asking a forbidden thing once per namespace.
			x := startTUI(t, bin, "--kubeconfig", kc, "--no-ledger")
			if tc.user == "viewer-ns" {
				x.WaitFor(30*time.Second, "watching namespace team-a")
			}
			waitStatus(x, 30*time.Second, "synced")
			x.Keys("/")
			x.Keys("-l", tc.filter)
			x.WaitForLine(5*time.Second, "/"+tc.filter)
			x.Keys("Enter")
			x.WaitFor(30*time.Second, tc.detail...)
			x.Keys("l") // a follow that is forbidden must not retry forever
			time.Sleep(time.Until(start.Add(20 * time.Second)))
			noLogNoise(t, x.Screen())
			x.Keys("C-c")
			x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")

			evs := clustertest.AuditSince(t, mark, kube.UserAgent(version))
			forbidden := 0
			for _, e := range evs {
				if e.User.Username != tc.user {
					t.Errorf("a request as %q in %s's session", e.User.Username, tc.user)
				}
				if e.Code() == 403 {
					forbidden++
				}
			}
			t.Logf("%s: %d requests in %s, %d forbidden:\n%s", tc.user, len(evs), time.Since(start).Round(time.Second), forbidden, tally(evs))
			// A session is a connect, a watch and one detail screen, which
			// refetches each time the pod restarts (every 10-20 s under the
			// test's back-off cap): about 40 requests, up to a third of
			// them forbidden. A storm is hundreds.
			if len(evs) > 80 || forbidden > 25 {
				t.Errorf("%s's 20-second session sent %d requests (%d forbidden): a retry storm", tc.user, len(evs), forbidden)
			}
			// The capture remembers a refusal: at most one forbidden request
			// per resource and namespace for each of its two workers.
			refused := map[string]int{}
			for _, e := range clustertest.AuditSince(t, mark, kube.UserAgent(version)+clusters.CaptureAgentSuffix) {
				if e.Code() == 403 && e.ObjectRef != nil {
					refused[e.ObjectRef.APIGroup+"/"+e.Resource()+" "+e.ObjectRef.Namespace]++
				}
			}
			for what, n := range refused {
				if n > 2 {
					t.Errorf("%s: the capture asked %s %d times after it was refused", tc.user, what, n)
				}
			}

			out, err := exec.Command(bin, append([]string{"--kubeconfig", kc, "explain"}, tc.explainArgs...)...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), tc.explain) {
				t.Errorf("explain as %s: %v; want %q in:\n%s", tc.user, err, tc.explain, out)
			}
		})
	}
}
