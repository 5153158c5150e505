package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/theme"
)

// TestHistoryOutput: the table aligns its columns and shows what killed each
// instance with its first error, cluster text sanitized; the JSON is the
// crashlens/v1 CrashHistory list, an empty list when there are no rows.
func TestHistoryOutput(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	rows := []ledger.Crash{
		{Namespace: "shop", Workload: "Deployment/api", Pod: "api-7d9f-x1", Container: "app", FinishedAt: now.Add(-2 * time.Minute),
			RunSeconds: 30, ExitCode: 137, Signal: "SIGKILL", Killer: "grace-period-sigkill", FirstError: "boom\x1b[2J"},
		{Namespace: "shop", Workload: "Deployment/api", Pod: "api-7d9f-x1", Container: "app", FinishedAt: now.Add(-5 * time.Minute),
			RunSeconds: 2, ExitCode: 1, Reason: "Error", Killer: "application"},
	}
	var b bytes.Buffer
	if err := HistoryTable(&b, rows, theme.Plain(), now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "FINISHED") {
		t.Fatalf("table:\n%s", b.String())
	}
	col := strings.Index(lines[0], "KILLER")
	if strings.Index(lines[1], "grace-period-sigkill") != col || strings.Index(lines[2], "application") != col {
		t.Errorf("columns do not line up:\n%s", b.String())
	}
	if !strings.Contains(lines[1], "deploy/api") || !strings.Contains(lines[1], "137 SIGKILL") || !strings.Contains(lines[2], "1 Error") || !strings.Contains(lines[1], "2m") {
		t.Errorf("table rows:\n%s", b.String())
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Error("an escape sequence from the log reached the table")
	}
	b.Reset()
	if err := HistoryJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		APIVersion, Kind string
		Items            []ledger.Crash
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.APIVersion != "crashlens/v1" || doc.Kind != "CrashHistory" || doc.Items == nil {
		t.Errorf("json %s (%v)", b.String(), err)
	}
}

func TestHistorySummary(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)
	kill := func(pod string, min int) ledger.Crash {
		return ledger.Crash{PodUID: pod, FinishedAt: at.Add(time.Duration(min) * time.Minute), ExitCode: 137, Cause: "liveness kill"}
	}
	exit1 := ledger.Crash{PodUID: "b", FinishedAt: at.Add(time.Hour), ExitCode: 1, Cause: "dependency :5432 refused"}
	// A whole-pod restart's instance whose exit the capture did not see.
	unseen := ledger.Crash{PodUID: "c", FinishedAt: at.Add(2 * time.Hour), ExitCode: -1, Reason: "RestartingAllContainers", Cause: "its rule restarts the whole pod"}
	for _, tc := range []struct {
		name string
		rows []ledger.Crash
		want string
	}{
		{"none", nil, ""},
		{"one", []ledger.Crash{kill("a", 0)}, "1 crash since 2026-12-01 02:10 UTC, all exit 137 (liveness kill)"},
		{"all alike", []ledger.Crash{kill("a", 9), kill("a", 5), kill("a", 0)}, "3 crashes since 2026-12-01 02:10 UTC, all exit 137 (liveness kill)"},
		{"mixed, two pods", []ledger.Crash{exit1, kill("a", 9), kill("a", 0)},
			"3 crashes in 2 pods since 2026-12-01 02:10 UTC: 2 exit 137 (liveness kill), 1 exit 1 (dependency :5432 refused)"},
		{"an exit nobody saw", []ledger.Crash{unseen, exit1},
			"2 crashes in 2 pods since 2026-12-01 03:10 UTC: 1 exit ? (its rule restarts the whole pod), 1 exit 1 (dependency :5432 refused)"},
	} {
		if got := HistorySummary(tc.rows); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	for r, want := range map[*ledger.Crash]string{&exit1: "1", &unseen: "? RestartingAllContainers"} {
		if got := RowExit(*r); got != want {
			t.Errorf("exit of %+v: %q, want %q", *r, got, want)
		}
	}
}
