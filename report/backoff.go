package report

// The back-off timeline every view shows: the diagnosis's, corrected by
// the waits the crash ledger saw (diagnose.Timeline.Observed). The TUI's
// header, explain (Markdown and JSON) and the TUI's incident report all
// read it here, so none prints the assumed curve's countdown while another
// prints the node's.

import (
	"time"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// RestartHistory reads the ledger's rows of one pod's container into its
// runs, the end of the oldest and the back-off they show against the cap
// of the diagnosis's timeline t (nil: the kubelet default). A workload's
// rows hold its replaced pods' too, whose waits are another back-off;
// container "" takes the rows of any container.
func RestartHistory(rows []ledger.Crash, podUID, container string, t *diagnose.Timeline) ([]diagnose.Run, time.Time, diagnose.RestartHistory) {
	var runs []diagnose.Run
	var first time.Time
	for _, r := range rows {
		if r.PodUID != podUID || (container != "" && r.Container != container) {
			continue
		}
		runs = append(runs, diagnose.Run{Started: r.StartedAt, Finished: r.FinishedAt})
		if first.IsZero() || r.FinishedAt.Before(first) {
			first = r.FinishedAt
		}
	}
	var cap time.Duration
	if t != nil {
		cap = time.Duration(t.CapSeconds * float64(time.Second))
	}
	return runs, first, diagnose.BackoffHistory(runs, cap)
}

// Backoff is r's back-off timeline as the ledger's rows of the pod show
// it: the node's observed curve when its waits disagree with the assumed
// one, else r's own. nil when r has none; r is not changed.
func Backoff(r diagnose.Report, podUID string, rows []ledger.Crash) *diagnose.Timeline {
	if r.Backoff == nil {
		return nil
	}
	_, _, h := RestartHistory(rows, podUID, r.Pod.Container, r.Backoff)
	t := r.Backoff.Observed(h)
	return &t
}
