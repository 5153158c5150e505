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
		{"a node's lower cap of 30 s", runsWith(t0, s, 10*s, 20*s, 30*s, 30*s), 0, []time.Duration{10 * s, 20 * s, 40 * s, 80 * s}, TrendAtCap},
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

// TestTimelineFollowsObservedWaits: a countdown on the assumed curve is
// replaced by the node's curve as the waits show it when they disagree
// with it (doubling: twice the last wait, cap unknown; holding: the cap,
// as observed; neither: no countdown), and kept when they agree, when the
// kubelet's message named the delay or when the last run reset it.
func TestTimelineFollowsObservedWaits(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	s := time.Second
	const none = -1 // no countdown
	for _, tc := range []struct {
		name     string
		waits    []time.Duration
		source   string
		delay    time.Duration // the assumed curve's
		running  bool          // no countdown: the container runs again
		lag      time.Duration // the timeline's last crash after the ledger's
		reset    bool
		wantSrc  string
		want     time.Duration // the delay
		wantNext time.Duration // after the last crash; none: no countdown
		wantCap  string
		wantText string
	}{
		// The default ladder: 10, 20, 40, 80 s; the next is 160 s.
		{name: "default curve holds", waits: []time.Duration{10 * s, 20 * s, 40 * s, 80 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "estimated", want: 160 * s, wantNext: 160 * s, wantCap: "5m"},
		// A node capped at 30 s: the default would say 160 s.
		{name: "a lower cap reached", waits: []time.Duration{10 * s, 20 * s, 30 * s, 30 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "observed", want: 30 * s, wantNext: 30 * s, wantCap: "30s as observed", wantText: "They hold at 30s: that is this node's cap, as observed"},
		{name: "flat waits of 30 s, seen at the cap", waits: []time.Duration{30 * s, 30 * s, 30 * s}, source: "estimated", delay: 300 * s,
			wantSrc: "observed", want: 30 * s, wantNext: 30 * s, wantCap: "30s as observed", wantText: "this node's cap, as observed"},
		// The faster decay: 1, 2, 4, 8 s; the next is 16 s, and its 1 min
		// cap has not shown yet.
		{name: "the faster initial decay", waits: []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "observed", want: 16 * s, wantNext: 16 * s, wantCap: "not reached yet", wantText: "They double, so the next wait is about 16s; the node's cap is not reached yet"},
		// A pod sync late each time: 1, 2, 4, 8 s plus a second.
		{name: "noisy doubling below the cap", waits: []time.Duration{2 * s, 3 * s, 5 * s, 9 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "observed", want: 18 * s, wantNext: 18 * s, wantCap: "not reached yet", wantText: "They double"},
		{name: "doubling never passes the assumed cap", waits: []time.Duration{10 * s, 20 * s, 90 * s, 180 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "observed", want: 300 * s, wantNext: 300 * s, wantCap: "not reached yet"},
		{name: "waits that follow no curve", waits: []time.Duration{10 * s, 20 * s, 60 * s, 15 * s}, source: "estimated", delay: 160 * s,
			wantSrc: "observed", want: 15 * s, wantNext: none, wantCap: "not reached yet", wantText: "neither double nor hold at a cap, so crashlens shows no countdown"},
		// Running again: the wait before this run was 16 s, the next 32 s.
		{name: "running again on the faster decay", waits: []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}, source: "estimated", delay: 160 * s, running: true,
			wantSrc: "observed", want: 32 * s, wantNext: none, wantCap: "not reached yet", wantText: "Running again"},
		// The ledger missed the newest crash: where the doubling stands is unknown.
		{name: "a doubling the ledger lags", waits: []time.Duration{1 * s, 2 * s, 4 * s, 8 * s}, source: "estimated", delay: 160 * s, lag: time.Minute,
			wantSrc: "observed", want: 8 * s, wantNext: none, wantCap: "not reached yet", wantText: "the ledger has not seen the latest crash"},
		// The kubelet's message is the node's word.
		{name: "the waiting message wins", waits: []time.Duration{10 * s, 20 * s, 30 * s, 30 * s}, source: "waiting-message", delay: 40 * s,
			wantSrc: "waiting-message", want: 40 * s, wantNext: 40 * s, wantCap: "5m"},
		{name: "a reset says nothing of the old waits", waits: []time.Duration{10 * s, 20 * s, 30 * s, 30 * s}, source: "estimated", delay: 160 * s, reset: true,
			wantSrc: "estimated", want: 160 * s, wantNext: 160 * s, wantCap: "5m"},
		{name: "one wait is not a curve", waits: []time.Duration{30 * s}, source: "estimated", delay: 20 * s,
			wantSrc: "estimated", want: 20 * s, wantNext: 20 * s, wantCap: "5m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := runsWith(t0, 2*s, tc.waits...)
			end := runs[len(runs)-1].Finished.Add(tc.lag)
			tl := Timeline{DelaySource: tc.source, DelaySeconds: tc.delay.Seconds(), CapSeconds: 300, ResetWindow: 600, LastRunSeconds: 2,
				WillReset: tc.reset, Explanation: "Waiting (cap 5m)."}
			if !tc.running {
				tl.NextRestart, tl.NextRestartIn = end.Add(tc.delay), 100
			}
			got := tl.Observed(BackoffHistory(runs, 0))
			if got.DelaySource != tc.wantSrc || got.DelaySeconds != tc.want.Seconds() {
				t.Errorf("delay %vs (%s), want %s (%s)", got.DelaySeconds, got.DelaySource, tc.want, tc.wantSrc)
			}
			switch {
			case tc.wantNext == none && !got.NextRestart.IsZero():
				t.Errorf("a countdown to %v, want none", got.NextRestart)
			case tc.wantNext != none && !got.NextRestart.Equal(end.Add(tc.wantNext)):
				t.Errorf("next restart %v, want %v", got.NextRestart, end.Add(tc.wantNext))
			}
			if c := got.CapText(); c != tc.wantCap {
				t.Errorf("cap %q, want %q", c, tc.wantCap)
			}
			if observed := got.DelaySource == DelayObserved; observed != strings.Contains(got.Explanation, "this node's back-off differs") ||
				observed == strings.Contains(got.Explanation, "cap 5m") || !strings.Contains(got.Explanation, tc.wantText) {
				t.Errorf("explanation %q, want %q", got.Explanation, tc.wantText)
			}
		})
	}
}

// TestCurveOf: the shape of two waits, as min(2*delay, cap) makes them.
func TestCurveOf(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		a, b time.Duration
		want int
	}{
		{1 * s, 2 * s, curveDoubling}, // within the slack of both: the nearer wins
		{4 * s, 8 * s, curveDoubling},
		{80 * s, 150 * s, curveDoubling},
		{30 * s, 30 * s, curveCapped},
		{2 * s, 2 * s, curveCapped},
		{20 * s, 30 * s, curveCapped}, // a doubling the cap cut short
		{30 * s, 29 * s, curveCapped},
		{60 * s, 15 * s, curveErratic}, // fell back
		{10 * s, 40 * s, curveErratic}, // more than doubled
	} {
		if got := curveOf(tc.a, tc.b); got != tc.want {
			t.Errorf("curveOf(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
