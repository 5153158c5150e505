package clustertest

import (
	"testing"
	"time"

	"github.com/crashlens/crashlens/diagnose"
)

// TestScalePodsAreWhatTheySay: the rulebook sees the scale fixture's
// shares as the figures assume: a running pod is healthy, one in a hundred
// crash-loops, one in a hundred is a Job's failed attempt (failing for a
// day).
func TestScalePodsAreWhatTheySay(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		i       int
		failing bool
		owner   string
	}{
		{7, false, "ReplicaSet"}, {100, true, "ReplicaSet"}, {150, true, "Job"},
	} {
		p, st := RealisticPod(tc.i), RealisticStatus(tc.i, now)
		if failedAttempt(tc.i) {
			p, st = FailedJobAttempt(tc.i), FailedJobStatus(tc.i, now)
		}
		p.Status = st
		v := diagnose.Classify(p, now)
		if v.Failing != tc.failing || p.OwnerReferences[0].Kind != tc.owner {
			t.Errorf("pod %d (%s): failing %v, want %v", tc.i, p.OwnerReferences[0].Kind, v.Failing, tc.failing)
		}
		if failedAttempt(tc.i) && (v.Pod.ExitCode != 1 || v.Recheck.IsZero()) {
			t.Errorf("failed attempt: exit %d, recheck %v: want exit 1, failing until a day after it ended", v.Pod.ExitCode, v.Recheck)
		}
	}
}
