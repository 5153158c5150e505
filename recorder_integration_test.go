//go:build integration

package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/ledger"
)

// recorderProxy is the recorder's Service through the apiserver's proxy.
const recorderProxy = "/api/v1/namespaces/crashlens/services/crashlens-recorder:http/proxy"

// TestRecorderInCluster applies deploy/demo (the kustomize base with the
// locally built image), crashes a workload five times, and checks what an
// on-call engineer who arrives later finds: five ledger rows with their own
// logs in the recorder's history API, the counter by killer and finding on
// /metrics (both through the apiserver's service proxy), `crashlens
// history` on a laptop whose own ledger is empty, and the TUI's History
// pane saying where its rows come from.
func TestRecorderInCluster(t *testing.T) {
	withRecorder(t)
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "recorded")
	crashingDeployment(t, cs, ns, "payments",
		`echo "starting payments (instance $(date +%s%N))"; echo 'FATAL: password authentication failed for user "payments"'; exit 1`)

	// Five terminations, as the recorder's history API has them.
	var rows []ledger.Crash
	history := func() bool {
		raw := clustertest.Kubectl(t, "", "get", "--raw", recorderProxy+"/api/v1/history?namespace="+ns+"&limit=100")
		var doc struct {
			Kind  string
			Items []ledger.Crash
		}
		if err := json.Unmarshal([]byte(raw), &doc); err != nil || doc.Kind != "CrashHistory" {
			t.Fatalf("history API: %v: %.300s", err, raw)
		}
		rows = doc.Items
		return len(rows) >= 5
	}
	if !clustertest.Poll(4*time.Minute, 2*time.Second, history) {
		t.Fatalf("the recorder has %d rows of %s after 4 minutes, want 5", len(rows), ns)
	}
	instances := map[string]bool{}
	for _, r := range rows[:5] {
		if r.Workload != "Deployment/payments" || r.ExitCode != 1 || r.Killer != "application" || r.TopFinding != "credentials-rejected" ||
			!strings.Contains(r.LogTail, "password authentication failed") {
			t.Errorf("row %+v", r)
		}
		instances[regexp.MustCompile(`instance \d+`).FindString(r.LogTail)] = true
	}
	if len(instances) != 5 {
		t.Errorf("five rows, but %d distinct instance logs: each row must hold its own instance's log (%v)", len(instances), instances)
	}

	// The counter by killer and finding, no pod name on it.
	metrics := clustertest.Kubectl(t, "", "get", "--raw", recorderProxy+"/metrics")
	counter := regexp.MustCompile(`(?m)^crashlens_container_terminations_total\{category="configuration",container="app",finding="credentials-rejected",killer="application",namespace="` +
		regexp.QuoteMeta(ns) + `",owner_kind="Deployment",owner_name="payments"\} (\d+)$`).FindStringSubmatch(metrics)
	if counter == nil {
		t.Fatalf("no terminations counter for %s/payments in /metrics:\n%s", ns, grepLines(metrics, "crashlens_container_terminations_total"))
	}
	if n, _ := strconv.Atoi(counter[1]); n < 5 {
		t.Errorf("the counter says %d terminations, the history API %d", n, len(rows))
	}
	for _, want := range []string{"crashlens_watch_state{", "crashlens_capture_latency_seconds_bucket", "crashlens_ledger_size_bytes", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A laptop that starts now: its own ledger is empty, the history is the recorder's.
	laptop := filepath.Join(t.TempDir(), "ledger.db")
	out, errOut, code := runCLI(t, "--ledger", laptop, "-n", ns, "history", "deploy/payments", "-o", "json")
	var doc struct{ Items []ledger.Crash }
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Items) < 5 {
		t.Errorf("history on a fresh laptop: exit %d, %d items (want 5 or more): %.300s %s", code, len(doc.Items), out, errOut)
	}
	if !strings.Contains(errOut, "history: in-cluster recorder since") {
		t.Errorf("history does not say where its rows come from: %q", errOut)
	}

	// The TUI's History pane on the same empty ledger.
	bin := clustertest.BuildCrashlens(t, "recorder-test")
	x := startTUI(t, bin, "--kubeconfig", clustertest.Kubeconfig(t, "admin"), "-n", ns, "--ledger", filepath.Join(t.TempDir(), "tui.db"))
	x.WaitFor(90*time.Second, "deploy/payments")
	x.Keys("enter")
	x.WaitFor(30*time.Second, " Events ")
	x.Keys("BTab")
	screen := x.WaitFor(20*time.Second, " History ", "history: in-cluster recorder since", "password authentication")
	if !strings.Contains(screen, "AGO") {
		t.Errorf("the History pane has no rows:\n%s", screen)
	}
}
