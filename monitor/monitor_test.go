package monitor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

var now = time.Date(2026, 12, 5, 3, 10, 0, 0, time.UTC)

func TestHistoryQuery(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  ledger.Query
		err   string
	}{
		{query: "", want: ledger.Query{Limit: 100}},
		{query: "since=24h&namespace=shop&workload=Deployment/api&container=app&limit=5",
			want: ledger.Query{Since: now.Add(-24 * time.Hour), Namespace: "shop", Workload: "Deployment/api", Container: "app", Limit: 5}},
		{query: "since=2026-12-04T09:12:00Z&pod=api-1&context=prod", want: ledger.Query{Since: time.Date(2026, 12, 4, 9, 12, 0, 0, time.UTC), Pod: "api-1", Context: "prod", Limit: 100}},
		{query: "since=yesterday", err: `since "yesterday"`},
		{query: "since=-1h", err: "positive duration"},
		{query: "limit=1000000", err: "want 1 to 1000"},
		{query: "limit=0", err: "want 1 to 1000"},
		{query: "limit=ten", err: "want 1 to 1000"},
		{query: "namespaces=shop", err: `unknown parameter "namespaces"`},
		{query: "pod=a&pod=b", err: `"pod" given 2 times`},
	} {
		v, _ := url.ParseQuery(tc.query)
		got, err := HistoryQuery(v, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one saying %q", tc.query, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v (%v), want %+v", tc.query, got, err, tc.want)
		}
	}
}

// TestMetrics: a capture counts under its workload and cause (never its pod
// name), the view's groups are a gauge that goes when the group does, and
// the health metrics move.
func TestMetrics(t *testing.T) {
	m := NewMetrics()
	h := m.Hooks()
	row := ledger.Crash{Namespace: "shop", Workload: "Deployment/api", Pod: "api-7d9f-x2", Container: "app",
		Killer: diagnose.KillerOOM, TopFinding: "oom-killed", Category: diagnose.CategoryResources}
	h.Captured(row, 3*time.Second, nil)
	h.Captured(row, 4*time.Second, errors.New("disk I/O error"))
	bare := ledger.Crash{Namespace: "shop", Workload: "Pod/debug-xyz", Pod: "debug-xyz", Container: "sh", Killer: diagnose.KillerApplication, TopFinding: "app-error-exit", Category: "application"}
	h.Captured(bare, time.Second, nil)
	h.Dropped()
	g := crash.Group{Key: "k1", Cluster: "prod", Namespace: "shop", Owner: "Deployment/api", Container: "app", Reason: "OOMKilled",
		Pods: []diagnose.CrashPod{{Name: "api-7d9f-x2"}, {Name: "api-7d9f-y3"}}}
	m.Observe(crash.Batch{Cluster: "prod", Upserted: []crash.Group{g}, Watched: 120, State: crash.ConnState{Phase: crash.PhaseSynced}, At: now})
	out := scrape(t, m)
	for _, want := range []string{
		`crashlens_container_terminations_total{category="resources",container="app",finding="oom-killed",killer="oom-killer",namespace="shop",owner_kind="Deployment",owner_name="api"} 2`,
		`crashlens_container_terminations_total{category="application",container="sh",finding="app-error-exit",killer="application",namespace="shop",owner_kind="Pod",owner_name=""} 1`,
		`crashlens_crashlooping_containers{container="app",finding="oom-killed",namespace="shop",owner_kind="Deployment",owner_name="api",reason="OOMKilled"} 2`,
		`crashlens_captures_dropped_total 1`,
		`crashlens_ledger_write_errors_total 1`,
		`crashlens_capture_latency_seconds_count 3`,
		`crashlens_watched_pods{cluster="prod"} 120`,
		`crashlens_watch_state{cluster="prod",phase="synced"} 1`,
		`crashlens_watch_last_sync_timestamp_seconds{cluster="prod"} 1.7964402e+09`,
		`go_goroutines`, `process_cpu_seconds_total`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "api-7d9f") || strings.Contains(out, "debug-xyz") {
		t.Error("a pod name is a label value: the counter's cardinality would grow with the pods")
	}
	if !m.Synced() {
		t.Error("the only cluster synced, but Synced says no")
	}
	m.Observe(crash.Batch{Cluster: "prod", Removed: []string{"k1"}, State: crash.ConnState{Phase: crash.PhaseReconnecting}, At: now})
	out = scrape(t, m)
	if strings.Contains(out, "crashlens_crashlooping_containers{") || !strings.Contains(out, `crashlens_watch_state{cluster="prod",phase="reconnecting"} 1`) {
		t.Errorf("after the group resolved and the watch broke:\n%s", grep(out, "crashlens_"))
	}
}

// TestHandler: readiness says why not, the history API is read-only,
// validates its parameters and answers the history documents.
func TestHandler(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if _, err := l.Record(ctx, ledger.Crash{Namespace: "shop", Workload: "Deployment/api", Pod: "api-1", PodUID: "u1", Container: "app",
			Restart: int32(i), FinishedAt: now.Add(time.Duration(i) * time.Minute), ExitCode: 137, Killer: diagnose.KillerOOM,
			LogTail: "fatal error: runtime: out of memory"}); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMetrics()
	h := NewHealth(m.Synced)
	srv := httptest.NewServer(Handler(m, h, l.History))
	defer srv.Close()
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "not open yet") {
		t.Errorf("readyz before the ledger opened: %d %q", code, body)
	}
	h.LedgerOpen(nil)
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "not synced") {
		t.Errorf("readyz before the first sync: %d %q", code, body)
	}
	m.Observe(crash.Batch{Cluster: "prod", State: crash.ConnState{Phase: crash.PhaseSynced}, At: now})
	if code, _ := get("GET", "/readyz"); code != 200 {
		t.Errorf("readyz when synced with a ledger: %d", code)
	}
	h.Written(errors.New("database or disk is full"))
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "disk is full") {
		t.Errorf("readyz after a failed write: %d %q", code, body)
	}
	if code, _ := get("GET", "/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, body := get("GET", "/metrics"); code != 200 || !strings.Contains(body, "crashlens_captures_dropped_total") {
		t.Errorf("metrics %d", code)
	}
	code, body := get("GET", "/api/v1/history?workload=Deployment/api&limit=2")
	if code != 200 || !strings.Contains(body, `"kind": "CrashHistory"`) || strings.Count(body, `"podUID"`) != 2 || !strings.Contains(body, `"restart": 2`) {
		t.Errorf("history: %d\n%s", code, body)
	}
	for _, bad := range []string{"/api/v1/history?since=soon", "/api/v1/history?limit=99999", "/api/v1/history?sort=asc"} {
		if code, body := get("GET", bad); code != 400 || body == "" {
			t.Errorf("%s: %d %q, want a 400 with a reason", bad, code, body)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if code, _ := get(method, "/api/v1/history"); code != 405 {
			t.Errorf("%s history: %d, want 405", method, code)
		}
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(Handler(m, NewHealth(m.Synced), nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, prefix string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
