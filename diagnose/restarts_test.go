package diagnose

import (
	"strings"
	"testing"
	"time"
)

// runsWith builds runs of the given lengths separated by the given waits.
func runsWith(start time.Time, run time.Duration, waits ...time.Duration) []Run {
	var out []Run
	at := start
	for i := 0; i <= len(waits); i++ {
		out = append(out, Run{Started: at, Finished: at.Add(run)})
		at = at.Add(run)
		if i < len(waits) {
			at = at.Add(waits[i])
		}
	}
	return out
}

func TestBackoffHistory(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)
	s := time.Second
	for _, tc := range []struct {
		name     string
		runs     []Run
		cap      time.Duration
		expected []time.Duration
		trend    string
	}{
		{"climbing from the start", runsWith(t0, 2*s, 10*s, 20*s, 40*s, 80*s), 0, []time.Duration{10 * s, 20 * s, 40 * s, 80 * s}, TrendClimbing},
		{"seen mid-way, at the cap", runsWith(t0, 3*time.Minute, 160*s, 300*s, 300*s), 0, []time.Duration{160 * s, 300 * s, 300 * s}, TrendAtCap},
		{"a test node's 10 s cap", runsWith(t0, s, 10*s, 10*s, 10*s), 10 * s, []time.Duration{10 * s, 10 * s, 10 * s}, TrendAtCap},
		{"a long run resets it", append(runsWith(t0, s, 10*s, 20*s, 40*s), Run{Started: t0.Add(154 * s), Finished: t0.Add(154*s + 11*time.Minute)},
			Run{Started: t0.Add(164*s + 11*time.Minute), Finished: t0.Add(165*s + 11*time.Minute)}), 0,
			[]time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 10 * s}, TrendReset},
		{"one crash", runsWith(t0, s), 0, nil, TrendUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Any order in: the ledger gives newest first.
			runs := append([]Run(nil), tc.runs...)
			for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
				runs[i], runs[j] = runs[j], runs[i]
			}
			h := BackoffHistory(runs, tc.cap)
			if len(h.Gaps) != len(tc.expected) {
				t.Fatalf("%d gaps, want %d: %+v", len(h.Gaps), len(tc.expected), h.Gaps)
			}
			for i, g := range h.Gaps {
				if g.Expected != tc.expected[i] {
					t.Errorf("gap %d: expected %s, want %s", i, g.Expected, tc.expected[i])
				}
			}
			if h.Trend != tc.trend {
				t.Errorf("trend %q, want %q", h.Trend, tc.trend)
			}
		})
	}
}

// TestTimelineFollowsObservedWaits: a countdown on the default curve is
// replaced by the observed wait when the node's waits disagree with it,
// and kept when they agree or when the kubelet's message named the delay.
func TestTimelineFollowsObservedWaits(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	lastFinish := func(runs []Run) time.Time { return runs[len(runs)-1].Finished }
	for _, tc := range []struct {
		name      string
		runs      []Run
		source    string
		delay     time.Duration
		wantDelay time.Duration
		wantSrc   string
	}{
		// The default ladder: 10, 20, 40, 80 s; the next is 160 s.
		{"default curve holds", runsWith(t0, 2*time.Second, 10*time.Second, 20*time.Second, 40*time.Second, 80*time.Second), "estimated", 160 * time.Second, 160 * time.Second, "estimated"},
		// A node capped at 30 s: 10, 20, 30, 30; the default would say 160.
		{"a lower cap than read", runsWith(t0, 2*time.Second, 10*time.Second, 20*time.Second, 30*time.Second, 30*time.Second), "estimated", 160 * time.Second, 30 * time.Second, "observed"},
		// The faster decay: 1, 2, 4, 8 s.
		{"the faster initial decay", runsWith(t0, 2*time.Second, 1*time.Second, 2*time.Second, 4*time.Second, 8*time.Second), "estimated", 160 * time.Second, 8 * time.Second, "observed"},
		// The kubelet's message is the node's word.
		{"the waiting message wins", runsWith(t0, 2*time.Second, 10*time.Second, 20*time.Second, 30*time.Second, 30*time.Second), "waiting-message", 40 * time.Second, 40 * time.Second, "waiting-message"},
		{"one wait is not a curve", runsWith(t0, 2*time.Second, 30*time.Second), "estimated", 20 * time.Second, 20 * time.Second, "estimated"},
	} {
		h := BackoffHistory(tc.runs, 0)
		next := lastFinish(tc.runs).Add(tc.delay)
		tl := Timeline{DelaySource: tc.source, DelaySeconds: tc.delay.Seconds(), CapSeconds: 300, NextRestart: next, NextRestartIn: 100, Explanation: "Waiting."}
		got := tl.Observed(h)
		if got.DelaySource != tc.wantSrc || got.DelaySeconds != tc.wantDelay.Seconds() || !got.NextRestart.Equal(lastFinish(tc.runs).Add(tc.wantDelay)) {
			t.Errorf("%s: %s delay %vs next %v; want %s %v next %v", tc.name, got.DelaySource, got.DelaySeconds, got.NextRestart, tc.wantSrc, tc.wantDelay, lastFinish(tc.runs).Add(tc.wantDelay))
		}
		if (got.DelaySource == "observed") != strings.Contains(got.Explanation, "this node's back-off differs") {
			t.Errorf("%s: explanation %q", tc.name, got.Explanation)
		}
	}
}
