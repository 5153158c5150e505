package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// TestBackoffFollowsTheLedger: explain's JSON and Markdown show the
// node's observed curve from the pod's own ledger rows (a replaced pod's
// rows and another container's are another back-off), without changing
// the caller's report; no rows leave the assumed curve.
func TestBackoffFollowsTheLedger(t *testing.T) {
	inc, r := recorded(t, "oomkilled")
	if r.Backoff == nil || r.Backoff.DelaySource != "estimated" {
		t.Fatalf("the scenario's back-off is not estimated: %+v", r.Backoff)
	}
	cs, _ := diagnose.StatusOf(inc.Pod, r.Pod.Container)
	term, _, _ := diagnose.LastTermination(cs)
	uid := string(inc.Pod.UID)
	// 1, 2, 4, 8 s (the faster decay), newest first, ending at the crash
	// the status shows; noise of other pods and containers between.
	end := term.FinishedAt.Time
	var rows []ledger.Crash
	for _, wait := range []time.Duration{8, 4, 2, 1, 0} {
		rows = append(rows, ledger.Crash{PodUID: uid, Container: r.Pod.Container, StartedAt: end.Add(-time.Second), FinishedAt: end},
			ledger.Crash{PodUID: "replaced", Container: r.Pod.Container, StartedAt: end.Add(-time.Minute), FinishedAt: end.Add(-30 * time.Second)},
			ledger.Crash{PodUID: uid, Container: "sidecar", StartedAt: end.Add(-time.Hour), FinishedAt: end.Add(-50 * time.Minute)})
		end = end.Add(-time.Second - wait*time.Second)
	}
	for _, tc := range []struct {
		name   string
		rows   []ledger.Crash
		source string
		delay  float64
		cap    string
	}{
		{"the ledger's waits", rows, diagnose.DelayObserved, 16, "not reached yet"},
		{"no ledger", nil, "estimated", r.Backoff.DelaySeconds, "5m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := *r.Backoff
			var out bytes.Buffer
			if err := ExplainJSON(&out, inc, r, tc.rows); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Report struct{ Backoff diagnose.Timeline }
			}
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if b := doc.Report.Backoff; b.DelaySource != tc.source || b.DelaySeconds != tc.delay {
				t.Errorf("JSON back-off %vs (%s), want %vs (%s)", b.DelaySeconds, b.DelaySource, tc.delay, tc.source)
			}
			out.Reset()
			if err := Markdown(&out, inc, r, tc.rows, time.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			if want := "- current delay: " + dur(tc.delay) + " (" + tc.source + "), cap " + tc.cap + "\n"; !strings.Contains(out.String(), want) {
				t.Errorf("Markdown lacks %q", want)
			}
			if *r.Backoff != before {
				t.Error("the caller's report changed")
			}
		})
	}
}
