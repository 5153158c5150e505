package diagnose

import (
	"fmt"
	"time"
)

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

// curveTolerance: an observed wait within this share of the expected one
// (or 3 s) follows the assumed curve; the kubelet adds up to a sync
// period of its own.
const curveTolerance = 0.15

// Observed returns the timeline corrected by the waits the restart history
// saw, when they disagree with the curve the timeline assumed (the kubelet
// default, or the cap read from the node): a node may run a lower cap than
// crashlens could read, or the faster initial decay
// (ReduceDefaultCrashLoopBackOffDecay), and a countdown on the assumed
// curve would then name a time the node will not keep. A delay read from
// the kubelet's own waiting message is the node's word and stays. The
// corrected delay is the last observed wait, and the explanation says why.
func (t Timeline) Observed(h RestartHistory) Timeline {
	if t.DelaySource != "estimated" || len(h.Gaps) < 2 {
		return t
	}
	last := h.Gaps[len(h.Gaps)-2:]
	for _, g := range last {
		slack := max(time.Duration(float64(g.Expected)*curveTolerance), 3*time.Second)
		if absDur(g.Observed-g.Expected) <= slack {
			return t // the curve holds
		}
	}
	observed := last[1].Observed.Round(time.Second)
	old := time.Duration(t.DelaySeconds * float64(time.Second))
	t.DelaySource = "observed"
	t.DelaySeconds = observed.Seconds()
	if !t.NextRestart.IsZero() {
		t.NextRestart = t.NextRestart.Add(observed - old)
		t.NextRestartIn = max(t.NextRestartIn+(observed-old).Seconds(), 0)
	}
	t.AtCap = observed >= time.Duration(t.CapSeconds*float64(time.Second))
	t.Explanation = fmt.Sprintf("The last waits between restarts were %s and %s where the kubelet's default curve expects %s and %s: this node's back-off differs (a lower cap than crashlens could read, or the faster initial decay). The countdown follows the observed wait of %s, not the default curve. ",
		humanDuration(last[0].Observed.Round(time.Second)), humanDuration(observed), humanDuration(last[0].Expected), humanDuration(last[1].Expected), humanDuration(observed)) + t.Explanation
	return t
}
