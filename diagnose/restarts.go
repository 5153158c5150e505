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
	// LastFinished is the end of the newest run: Observed predicts the
	// wait after it only when it is the crash the timeline counts from.
	LastFinished time.Time
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
	if len(sorted) > 0 {
		h.LastFinished = sorted[len(sorted)-1].Finished
	}
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

// trendOf reads the last two waits. Waits that hold (or a doubling cut
// short) are at a cap even below the assumed one: a node's lower cap.
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
	case curveOf(prev.Round(time.Second), last.Round(time.Second)) == curveCapped:
		return TrendAtCap
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

// DelayObserved is the DelaySource of a timeline that follows the waits
// the crash ledger saw (Timeline.Observed), not the assumed curve.
const DelayObserved = "observed"

// curveTolerance: an observed wait within this share of the expected one
// (or 3 s) follows the assumed curve; the kubelet adds up to a sync
// period of its own.
const curveTolerance = 0.15

// slack is how far an observed wait may stray from d and still be d: the
// kubelet restarts on a pod sync after the delay, and the ledger's times
// have a second's grain.
func slack(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*curveTolerance), 3*time.Second)
}

// Shapes of the curve two consecutive waits show.
const (
	curveErratic  = iota // neither: a reset, or a node crashlens cannot model
	curveDoubling        // the second about twice the first: still climbing
	curveCapped          // the second about the first, or a doubling cut short: the node's cap
)

// curveOf reads the shape of consecutive waits a then b. The kubelet's
// next delay is min(2*delay, cap), so b near 2a is a doubling, and b from
// about a up to below 2a is the cap holding or cutting a doubling short:
// b is the cap. Small waits fit both within the slack (1 s then 2 s): the
// nearer wins.
func curveOf(a, b time.Duration) int {
	double := absDur(b - 2*a)
	switch {
	case double <= slack(2*a) && double < absDur(b-a):
		return curveDoubling
	case b >= a-slack(a) && b < 2*a:
		return curveCapped
	}
	return curveErratic
}

// Observed returns the timeline corrected by the waits the restart history
// saw, when the last two disagree with the curve the timeline assumed (the
// kubelet default, or the cap read from the node): a node may run a lower
// cap than crashlens could read, or the faster initial decay
// (ReduceDefaultCrashLoopBackOffDecay: 1 s doubling to 1 min), and a
// countdown on the assumed curve would name a time the node will not keep.
//
// The node's curve is then read from those two waits as the kubelet makes
// them: doubling, the next wait is twice the last (one step further while
// the container runs again) and the cap is not known yet (CapSeconds 0,
// never the assumed cap as fact); holding (or a doubling cut short), the
// last wait is the node's cap, as observed, and the next. Waits that do
// neither, or a doubling whose newest crash the ledger has not seen yet,
// give no countdown: a guess would be one the node may not keep.
//
// A delay read from the kubelet's waiting message is the node's word and
// stays; so does a timeline whose last run reset the back-off (the waits
// seen came before the reset and say nothing of the next). The
// explanation is rewritten, so it names no assumed cap either.
func (t Timeline) Observed(h RestartHistory) Timeline {
	if t.DelaySource != "estimated" || t.WillReset || len(h.Gaps) < 2 {
		return t
	}
	last := h.Gaps[len(h.Gaps)-2:]
	for _, g := range last {
		if absDur(g.Observed-g.Expected) <= slack(g.Expected) {
			return t // the curve holds
		}
	}
	sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	a, b := last[0].Observed.Round(time.Second), last[1].Observed.Round(time.Second)
	assumedCap, old := sec(t.CapSeconds), sec(t.DelaySeconds)
	running := t.NextRestart.IsZero() // timeline sets no countdown for a running container
	// The ledger holds the crash the countdown runs from (it may lag a
	// capture behind, or have missed restarts while crashlens was closed).
	fresh := running || absDur(t.NextRestart.Add(-old).Sub(h.LastFinished)) <= 2*time.Second

	why := fmt.Sprintf("The last waits between restarts were %s and %s where the curve crashlens assumed expects %s and %s: this node's back-off differs (a lower cap than crashlens could read, or the faster initial decay). ",
		humanDuration(a), humanDuration(b), humanDuration(last[0].Expected), humanDuration(last[1].Expected))
	delay, countdown := b, true
	shape := curveOf(a, b)
	switch {
	case shape == curveCapped:
		t.CapSeconds, t.AtCap = b.Seconds(), true
		why += fmt.Sprintf("They hold at %s: that is this node's cap, as observed, and its next wait. ", humanDuration(b))
	case shape == curveDoubling && fresh:
		delay = 2 * b
		if running {
			delay *= 2 // the wait before this run came after the ledger's last crash
		}
		if assumedCap > 0 {
			delay = min(delay, assumedCap) // no node's cap is above the assumed one
		}
		t.CapSeconds, t.AtCap = 0, false
		why += fmt.Sprintf("They double, so the next wait is about %s; the node's cap is not reached yet, so crashlens does not know it. ", humanDuration(delay))
	case shape == curveDoubling:
		t.CapSeconds, t.AtCap, countdown = 0, false, false
		why += "They double, but the ledger has not seen the latest crash, so where the node's curve stands is unknown: crashlens shows no countdown. "
	default:
		t.CapSeconds, t.AtCap, countdown = 0, false, false
		why += fmt.Sprintf("They neither double nor hold at a cap, so crashlens shows no countdown; the last wait was %s. ", humanDuration(b))
	}
	t.DelaySource, t.DelaySeconds = DelayObserved, delay.Seconds()
	switch {
	case running:
		why += fmt.Sprintf("Running again after %d restarts; the back-off resets only once it has run %s.", t.Restarts, humanDuration(sec(t.ResetWindow)))
	case !countdown:
		t.NextRestart, t.NextRestartIn = time.Time{}, 0
		why += fmt.Sprintf("Runs last %s, under the %s a container must run before the kubelet resets its back-off.", humanDuration(sec(t.LastRunSeconds)), humanDuration(sec(t.ResetWindow)))
	default:
		// Without a clock: the countdown moves by what the delay moved.
		t.NextRestart = t.NextRestart.Add(delay - old)
		t.NextRestartIn = max(t.NextRestartIn+(delay-old).Seconds(), 0)
		why += fmt.Sprintf("The countdown follows the node's observed curve, not the default one. Runs last %s, under the %s a container must run before the kubelet resets its back-off, so the delay will not come down by itself.",
			humanDuration(sec(t.LastRunSeconds)), humanDuration(sec(t.ResetWindow)))
	}
	t.Explanation = why
	return t
}

// CapText is the cap to show beside the delay: the assumed one, the
// node's as its waits showed it, or that an observed curve has not reached
// its cap yet (rather than the assumed cap printed as the node's).
func (t Timeline) CapText() string {
	switch {
	case t.DelaySource != DelayObserved:
		return humanDuration(time.Duration(t.CapSeconds * float64(time.Second)))
	case t.CapSeconds > 0:
		return humanDuration(time.Duration(t.CapSeconds*float64(time.Second))) + " as observed"
	}
	return "not reached yet"
}
