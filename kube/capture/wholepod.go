package capture

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// unseenWholePodExit fills the row of an instance that a whole-pod restart
// removed before its exit was seen (the watcher reconnecting, the recorder
// restarting in the seconds it showed). All the status keeps is the
// kubelet's placeholder (RestartingAllContainers, exit 137, no times),
// which is not the exit: the row says the exit is unknown (-1), dates the
// end by the next instance's start (the kubelet restarts the pod at once,
// with no back-off) or else by when the watcher saw the placeholder, and
// says why it holds nothing more. The instance still gets its one row, so
// the history's count of restarts stays true.
func unseenWholePodExit(c *ledger.Crash, pod *corev1.Pod, ev Evidence) {
	c.ExitCode, c.Message, c.StartedAt = -1, "", time.Time{}
	c.FinishedAt = ev.Observed
	if cs, ok := diagnose.StatusOf(pod, ev.Container); ok && cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero() {
		c.FinishedAt = cs.State.Running.StartedAt.Time
	}
	note := "exit not seen: the pod restarted as a whole (its RestartAllContainers rule) and the kubelet keeps only a placeholder"
	if c.LogNote != "" {
		note += "; " + c.LogNote
	}
	c.LogNote = note
}
