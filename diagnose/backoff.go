package diagnose

import (
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kubelet back-off facts (v1.36, pkg/kubelet): the delay starts at 10 s and
// doubles per restart up to the cap (5 min unless the node sets
// crashLoopBackOff.maxContainerRestartPeriod); it resets only after the
// container ran longer than a fixed 10 minutes, whatever the cap.
const (
	InitialBackoff     = 10 * time.Second
	DefaultBackoffCap  = 300 * time.Second
	BackoffResetWindow = 600 * time.Second
)

// Timeline is the CrashLoopBackOff timeline of one container.
type Timeline struct {
	Restarts     int32   `json:"restarts"`
	DelaySeconds float64 `json:"delaySeconds"`
	DelaySource  string  `json:"delaySource"` // waiting-message, estimated or observed (DelayObserved)
	// CapSeconds is the back-off's ceiling: the node's, the default, or
	// the one observed; 0 with DelaySource observed when the waits still
	// double, so the node's ceiling is not known yet (CapText says so).
	CapSeconds     float64   `json:"capSeconds"`
	AtCap          bool      `json:"atCap"`
	NextRestart    time.Time `json:"nextRestart,omitzero"`
	NextRestartIn  float64   `json:"nextRestartInSeconds"`
	LastRunSeconds float64   `json:"lastRunSeconds"`
	ResetWindow    float64   `json:"resetWindowSeconds"`
	WillReset      bool      `json:"willReset"`
	Explanation    string    `json:"explanation"`
}

var backoffRE = regexp.MustCompile(`back-off (\S+) restarting failed container`)

// parseBackoffMessage reads the delay from the kubelet's waiting message
// ("back-off 2m40s restarting failed container=app pod=ns/pod_uid").
func parseBackoffMessage(msg string) (time.Duration, bool) {
	m := backoffRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	if err != nil || d < 0 || d > 24*time.Hour {
		return 0, false
	}
	return d, true
}

// EstimateBackoff is the kubelet's delay after restarts crashes with the
// given cap: 10 s doubling per restart.
func EstimateBackoff(restarts int32, cap time.Duration) time.Duration {
	if cap <= 0 {
		cap = DefaultBackoffCap
	}
	d := InitialBackoff
	for i := int32(1); i < restarts && d < cap; i++ {
		d *= 2
	}
	return min(d, cap)
}

// timeline builds the back-off timeline; nil when the container never
// terminated (nothing to back off from).
func timeline(cs corev1.ContainerStatus, cap time.Duration, now time.Time) *Timeline {
	t := lastTermination(cs)
	if t == nil {
		return nil
	}
	if cap <= 0 {
		cap = DefaultBackoffCap
	}
	tl := &Timeline{Restarts: cs.RestartCount, CapSeconds: cap.Seconds(), ResetWindow: BackoffResetWindow.Seconds()}
	delay, ok := time.Duration(0), false
	if w := cs.State.Waiting; w != nil {
		delay, ok = parseBackoffMessage(w.Message)
	}
	if ok {
		tl.DelaySource = "waiting-message"
	} else {
		delay = EstimateBackoff(cs.RestartCount, cap)
		tl.DelaySource = "estimated"
	}
	tl.DelaySeconds = delay.Seconds()
	tl.AtCap = delay >= cap
	if !t.StartedAt.IsZero() && t.StartedAt.Unix() > 0 && t.FinishedAt.After(t.StartedAt.Time) {
		tl.LastRunSeconds = t.FinishedAt.Sub(t.StartedAt.Time).Seconds()
	}
	running := cs.State.Running != nil
	if !running && !t.FinishedAt.IsZero() {
		tl.NextRestart = t.FinishedAt.Add(delay)
		tl.NextRestartIn = max(tl.NextRestart.Sub(now).Seconds(), 0)
	}
	lastRun := time.Duration(tl.LastRunSeconds * float64(time.Second))
	tl.WillReset = lastRun > BackoffResetWindow
	switch {
	case running:
		tl.Explanation = fmt.Sprintf("Running again after %d restarts; if it crashes, the next wait is about %s. The back-off resets only once it has run %s.",
			cs.RestartCount, humanDuration(delay), humanDuration(BackoffResetWindow))
	case tl.WillReset:
		tl.Explanation = fmt.Sprintf("The last run lasted %s, past the kubelet's %s reset window: the back-off starts again from %s.",
			humanDuration(lastRun), humanDuration(BackoffResetWindow), humanDuration(InitialBackoff))
	default:
		tl.Explanation = fmt.Sprintf("Waiting %s before restart %d (cap %s). Runs last %s, under the %s a container must run before the kubelet resets its back-off, so the delay will not come down by itself.",
			humanDuration(delay), cs.RestartCount+1, humanDuration(cap), humanDuration(lastRun), humanDuration(BackoffResetWindow))
	}
	return tl
}
