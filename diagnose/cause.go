package diagnose

import (
	"fmt"
	"slices"
	"strings"
)

// The CAUSE column: the rulebook's verdict in a few words. A row knows only
// the pod's status, so its cause is what the status proves (statusCause);
// once a crash has been captured with its events and log, the same
// rulebook's top finding says more (Report.Cause) and the list shows that.
// Neither ever names an OOM kill the status does not show.

// maxCauseLen bounds a cause: it is one cell of the list.
const maxCauseLen = 48

// Cause is the report's top finding in a few words, for the list's CAUSE
// column and the ledger; empty when the container is not crashing.
func (r Report) Cause() string {
	if len(r.Findings) == 0 || r.Findings[0].ID == FindingNotCrashing {
		return ""
	}
	f := r.Findings[0]
	code := ""
	if r.Exit != nil {
		code = fmt.Sprintf(" %d", r.Exit.Code)
	}
	var c string
	switch f.ID {
	case FindingLivenessKill:
		c = "liveness kill"
	case FindingStartupKill:
		c = "startup probe kill"
	case FindingOOMKilled:
		c = "OOM killed"
	case FindingAppOutOfMemory:
		c = "app out of memory"
		if m := r.Log.Cause; m != nil && m.Kind == LogOOM {
			c += " (" + runtimeOf(m.Text).name + ")"
		}
	case FindingExternalKill:
		c = "killed from outside"
	case FindingGracePeriodKill:
		c = "SIGTERM ignored, SIGKILL"
	case FindingCommandNotFound:
		c = "command not found"
	case FindingNotExecutable:
		c = "not executable"
	case FindingSegfault:
		c = "segfault"
	case FindingAbort:
		c = "abort (SIGABRT)"
	case FindingExitZeroUnderAlways:
		c = "exits 0 under restart Always"
	case FindingConfigRefMissing:
		c = "missing ConfigMap/Secret"
	case FindingMountFailed:
		c = "volume mount failed"
	case FindingImagePullFailed:
		c = "image pull failed"
	case FindingInitContainerFailing:
		c = "init container fails"
	case FindingInitStuck:
		c = "init step never finishes"
	case FindingRolloutRegression:
		c = "rollout regression"
	case FindingBackoffNeverResets:
		c = "back-off never resets"
	case FindingAppErrorExit:
		// Not a verdict: the code and the best lead, marked unknown; or,
		// when the container's own restart rule retries the code, that.
		c = "exit" + code + ", cause unknown"
		if r.Log.FirstError != nil {
			c = "exit" + code + " (unknown): " + r.Log.FirstError.Text
		} else if r.wholePod {
			c = wholePodWords(r.Exit.Code)
		} else if r.retriedByRule() {
			c = "exit" + code + ", retried by a restart rule"
		}
	case FindingCauseUnknown:
		c = "cause unknown"
		if r.wholePod {
			c = wholePodWords(r.Exit.Code)
		}
	default:
		c = f.ID
	}
	if m := r.Log.Cause; m != nil && familyOf(m.Kind).finding == f.ID && f.ID != FindingAppOutOfMemory {
		// The log's cause line made the top finding: its words say it.
		c = causeWords(m)
	}
	return cutCause(c)
}

// statusCause is what the status alone proves about a failing row;
// termMessage is the last termination's message (row.Message may be the
// kubelet's waiting message instead).
func statusCause(row CrashPod, termMessage string) string {
	state := strings.TrimPrefix(row.State, "Init:")
	reason := strings.TrimPrefix(row.Reason, "Init:")
	var c string
	switch {
	case state == "ImagePullBackOff" || state == "ErrImagePull" || state == "InvalidImageName" || state == "ErrImageNeverPull":
		c = "image pull failed"
	case state == "CreateContainerConfigError":
		c = "config error: " + row.Message
	case state == "CreateContainerError" || state == "RunContainerError" || state == "StartError" || reason == "StartError" ||
		reason == "ContainerCannotRun":
		c = "cannot start: " + runcDetail(row.Message)
	case reason == ReasonWholePodRestart:
		c = wholePodWords(row.ExitCode)
	case row.State == StateInitStuck:
		c = "init step never finishes"
	case state == "ContainerCreating":
		c = "stuck creating (see events)"
	case reason == "OOMKilled":
		c = "OOM killed"
	case row.ExitCode == 0:
		c = "exits 0"
	case row.ExitCode == 127:
		c = "command not found"
	case row.ExitCode == 126:
		c = "not executable"
	case row.ExitCode == 139:
		c = "segfault"
	case row.ExitCode == 134:
		c = "abort (SIGABRT)"
	case row.ExitCode > 128 && row.Signal != "":
		// Who sent it (the kubelet after a probe, the kernel, a person)
		// takes the events: the captured crash says.
		c = "killed by " + row.Signal
	case row.ExitCode > 0:
		c = "app exit " + fmt.Sprint(row.ExitCode)
		if termMessage != "" {
			c += ": " + termMessage
		}
	default:
		c = strings.ToLower(state)
	}
	return cutCause(strings.TrimSuffix(strings.TrimSpace(c), ":"))
}

func cutCause(s string) string {
	s = firstLine(s)
	if r := []rune(s); len(r) > maxCauseLen {
		return string(r[:maxCauseLen-1]) + "…"
	}
	return s
}

// retriedByRule: a restart rule of the container, not its policy, restarts
// the last exit (the restart-rule finding quotes the rule that decided).
func (r Report) retriedByRule() bool {
	if r.Backoff == nil {
		return false
	}
	for _, f := range r.Findings {
		if f.ID == FindingRestartRule && slices.ContainsFunc(f.Evidence, func(e Evidence) bool { return strings.Contains(e.Source, ".restartPolicyRules[") }) {
			return true
		}
	}
	return false
}
