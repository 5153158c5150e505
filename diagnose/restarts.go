package diagnose

import "time"

// The restart history of one container, as the crash ledger remembers it:
// the gap before each restart next to the delay the kubelet's back-off
// should have used, so a user sees whether the back-off is climbing, stuck
// at its cap or was reset.

// Run is one instance of a container: when it started and ended.
type Run struct {
	Started, Finished time.Time
}

// RestartGap is the wait between the end of one run and the start of the
// next.
type RestartGap struct {
	At       time.Time     // the crash the wait followed
	Observed time.Duration // the real wait
	Expected time.Duration // the kubelet's back-off delay at that point
}

// Back-off trends of a restart history.
const (
	TrendClimbing = "climbing"   // each wait doubles towards the cap
	TrendAtCap    = "at the cap" // the waits stay at the cap: it will not reset at this pace
	TrendReset    = "reset"      // the last wait fell back: the container ran long enough
	TrendUnknown  = ""           // fewer than two restarts seen
)

// RestartHistory is the back-off as the runs show it.
type RestartHistory struct {
	Gaps  []RestartGap
	Trend string
}

// BackoffHistory reads runs (in any order) of one container with the
// node's back-off cap (zero: the kubelet default). The first gap seeds the
// expected ladder (crashlens may have started watching mid-way); from then
// on the kubelet doubles the delay per crash up to the cap and starts over
// at 10 s after a run longer than its reset window.
func BackoffHistory(runs []Run, cap time.Duration) RestartHistory {
	if cap <= 0 {
		cap = DefaultBackoffCap
	}
	sorted := make([]Run, 0, len(runs))
	for _, r := range runs {
		if !r.Finished.IsZero() {
			sorted = append(sorted, r)
		}
	}
	for i := 1; i < len(sorted); i++ { // insertion sort: a few hundred runs at most
		for j := i; j > 0 && sorted[j].Finished.Before(sorted[j-1].Finished); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	var h RestartHistory
	var delay time.Duration
	for i := 0; i+1 < len(sorted); i++ {
		prev, next := sorted[i], sorted[i+1]
		if next.Started.IsZero() || next.Started.Before(prev.Finished) {
			continue
		}
		observed := next.Started.Sub(prev.Finished)
		switch {
		case delay == 0:
			delay = ladderStep(observed, cap)
		case !prev.Started.IsZero() && prev.Finished.Sub(prev.Started) >= BackoffResetWindow:
			delay = InitialBackoff
		default:
			delay = min(2*delay, cap)
		}
		h.Gaps = append(h.Gaps, RestartGap{At: prev.Finished, Observed: observed, Expected: delay})
	}
	h.Trend = trendOf(h.Gaps, cap)
	return h
}

// ladderStep is the back-off delay (10 s, 20 s, ... the cap) nearest to an
// observed wait.
func ladderStep(observed, cap time.Duration) time.Duration {
	best := InitialBackoff
	for d := InitialBackoff; ; d = min(2*d, cap) {
		if absDur(observed-d) < absDur(observed-best) {
			best = d
		}
		if d == cap {
			return best
		}
	}
}

func trendOf(gaps []RestartGap, cap time.Duration) string {
	if len(gaps) < 2 {
		return TrendUnknown
	}
	last, prev := gaps[len(gaps)-1].Observed, gaps[len(gaps)-2].Observed
	switch {
	case last >= cap*9/10:
		return TrendAtCap
	case last*3 < prev*2:
		return TrendReset
	default:
		return TrendClimbing
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
