package diagnose

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Killers of a container: who ended the last run.
const (
	KillerApplication = "application"          // the process exited by itself
	KillerOOM         = "oom-killer"           // the kernel, at the memory limit
	KillerLiveness    = "liveness-probe"       // the kubelet after failed liveness probes (SIGTERM honoured)
	KillerStartup     = "startup-probe"        // the kubelet after failed startup probes
	KillerGracePeriod = "grace-period-sigkill" // the kubelet's SIGKILL when SIGTERM was ignored for the grace period
	KillerOutside     = "outside-sigkill"      // a SIGKILL from outside the kubelet's probes (chaos, a human, another process)
	KillerRuntime     = "runtime"              // the process never started
	KillerCompleted   = "completed"            // a clean exit
	KillerPodRestart  = "pod-restart"          // removed by the kubelet when another container's exit restarted the whole pod
)

// ExitExplanation is the last termination, explained in context.
type ExitExplanation struct {
	Code        int32     `json:"code"`
	Signal      string    `json:"signal,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Message     string    `json:"message,omitempty"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	RanSeconds  float64   `json:"ranSeconds"`
	Killer      string    `json:"killer"`
	Meaning     string    `json:"meaning"`
	Explanation string    `json:"explanation"`
	// KillEvent is the kubelet's Killing event that preceded the exit, if
	// any; GraceSeconds is the pod's termination grace period.
	KillEvent    *corev1.Event `json:"-"`
	GraceSeconds int64         `json:"-"`
	// KillInferred: no Killing event falls within the last run (the
	// kubelet's per-pod event budget is spent); earlier ones are the evidence.
	KillInferred bool `json:"killInferred,omitempty"`
}

// signalNames are the signals a container's exit code most often carries.
var signalNames = map[int32]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
	9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
}

// exitMeaning is the short meaning of a termination, the same in the list's
// row and the detail's exit pane.
func exitMeaning(t *corev1.ContainerStateTerminated) string {
	if t.Reason == "StartError" || (t.ExitCode == 128 && t.StartedAt.Unix() <= 0) {
		return "never started"
	}
	return codeMeaning(t.ExitCode, t.Reason)
}

// signalOf names the signal an exit code carries (128+N), if any: only the
// signals that end processes in practice (1 to 15); a higher code such as
// 150 is the program's own (the .NET host exits 150 when its framework is
// missing), not signal 22.
func signalOf(code int32) string {
	if code > 128 && code < 128+65 {
		return signalNames[code-128]
	}
	return ""
}

// codeMeaning is the short meaning of an exit code and reason: only what
// the code proves whoever exited, so the list's EXIT never contradicts the
// cause the rulebook finds later. A signal is named (who sent it is the
// cause's business); 126 and 127 are a shell's or loader's "cannot run" and
// "not found" (a missing command or library alike); 0, 1, 2 and the rest
// are the program's own choice and mean nothing by themselves (2 is a shell
// builtin's misuse, a CLI's usage error and the Go runtime's every fatal
// error), so EXIT shows the number alone.
func codeMeaning(code int32, reason string) string {
	if reason == "OOMKilled" {
		return "OOM killed"
	}
	switch {
	case code == 126:
		return "not executable"
	case code == 127:
		return "not found"
	case signalOf(code) != "":
		return signalOf(code)
	}
	return ""
}

// codeText is an exit code with its meaning, for sentences: "code 1",
// "code 137 (SIGKILL)".
func codeText(code int32, meaning string) string {
	if meaning == "" {
		return fmt.Sprintf("code %d", code)
	}
	return fmt.Sprintf("code %d (%s)", code, meaning)
}

// LastTermination is the one rule for a container's most recent
// termination, used by the list, the detail, the capture and the report:
// the current state when it is terminated (the kubelet shows that most of
// the time for a fast crasher; current is true, and that instance's log is
// the current one), else the last state (its log is --previous). instance
// is the restart count the terminated instance ran with. nil when the
// container never terminated.
func LastTermination(cs corev1.ContainerStatus) (t *corev1.ContainerStateTerminated, instance int32, current bool) {
	if cs.State.Terminated != nil {
		return cs.State.Terminated, cs.RestartCount, true
	}
	if cs.LastTerminationState.Terminated != nil {
		return cs.LastTerminationState.Terminated, max(cs.RestartCount-1, 0), false
	}
	return nil, 0, false
}

// StatusOf is the status of the pod's named container, init or app (names
// are unique across both); ok is false when the pod has none yet.
func StatusOf(pod *corev1.Pod, name string) (cs corev1.ContainerStatus, ok bool) {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return list[i], true
			}
		}
	}
	return corev1.ContainerStatus{}, false
}

func lastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	t, _, _ := LastTermination(cs)
	return t
}

// explainExit explains the container's last termination in the context of
// the pod's events; nil when it never terminated.
func explainExit(pod *corev1.Pod, cs corev1.ContainerStatus, events []corev1.Event) *ExitExplanation {
	t := lastTermination(cs)
	if t == nil {
		return nil
	}
	e := &ExitExplanation{
		Code: t.ExitCode, Reason: t.Reason, Message: strings.TrimSpace(t.Message),
		StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time,
		Meaning:      exitMeaning(t),
		Signal:       signalOf(t.ExitCode),
		GraceSeconds: gracePeriod(pod),
	}
	if !e.StartedAt.IsZero() && e.StartedAt.Unix() > 0 && e.FinishedAt.After(e.StartedAt) {
		e.RanSeconds = e.FinishedAt.Sub(e.StartedAt).Seconds()
	}
	e.KillEvent = killingEventFor(cs.Name, t, events)
	if e.KillEvent == nil && t.Reason != "OOMKilled" {
		// The kubelet records at most about 25 events per pod before its
		// spam filter drops the rest, and folds repeats late, so a pod
		// killed many times often has no Killing event for its latest kill.
		// Earlier probe kills of the same container are the evidence then,
		// with either an exit a kill leaves (137, 143, or 0 from an app that
		// handles SIGTERM) or, for any exit, the probe still failing when the
		// run ended.
		if ev := latestKillingEvent(cs.Name, events); ev != nil &&
			(t.ExitCode == 137 || t.ExitCode == 143 || t.ExitCode == 0 || probeFailingAtEnd(cs.Name, t, events)) {
			e.KillEvent, e.KillInferred = ev, true
		}
	}
	probe := ""
	if e.KillEvent != nil {
		probe = "liveness"
		if strings.Contains(e.KillEvent.Message, "startup probe") {
			probe = "startup"
		}
	}
	ran := humanDuration(time.Duration(e.RanSeconds * float64(time.Second)))
	switch {
	case IsWholePodPlaceholder(t):
		// The kubelet's placeholder, not an exit: its 137 is no code.
		e.Code, e.Signal, e.Meaning = -1, "", ""
		e.Killer = KillerPodRestart
		e.Explanation = wholePodExplanation(pod, containerSpec(pod, cs.Name))
	case t.Reason == "OOMKilled":
		e.Killer = KillerOOM
		e.Explanation = fmt.Sprintf("The kernel's OOM killer ended the container at its memory limit after %s (exit %d, SIGKILL).", ran, t.ExitCode)
	case t.Reason == "StartError" || (t.ExitCode == 128 && t.StartedAt.Unix() <= 0):
		e.Killer = KillerRuntime
		e.Explanation = "The container never started: the runtime could not run its command. " + startErrorCause(t.Message)
	case t.ExitCode == 137 && probe != "":
		e.Killer = KillerGracePeriod
		e.Explanation = fmt.Sprintf("Not an OOM: the kubelet killed the container after failed %s probes (%q), sent SIGTERM, and the process was still running when the %ds grace period ended, so it got SIGKILL (exit 137). A PID 1 without a SIGTERM handler (a shell, many scripts) always ends this way.",
			probe, e.KillEvent.Message, e.GraceSeconds)
	case probe != "":
		e.Killer = KillerLiveness
		if probe == "startup" {
			e.Killer = KillerStartup
		}
		e.Explanation = fmt.Sprintf("The %s probe, not the application: the kubelet killed the container (%q) and the process exited with %s on the SIGTERM.",
			probe, e.KillEvent.Message, codeText(t.ExitCode, e.Meaning))
	case t.ExitCode == 137:
		e.Killer = KillerOutside
		e.Explanation = fmt.Sprintf("SIGKILL from outside, after running %s. Not an OOM (the reason is %q, not OOMKilled) and not a probe (no Killing event): another process, a chaos tool, a human or the node killed it.", ran, t.Reason)
	case t.ExitCode == 0 && !restartOn(pod, containerSpec(pod, cs.Name), 0).restart:
		e.Killer = KillerCompleted
		e.Explanation = fmt.Sprintf("The process finished normally after %s.", ran)
	case t.ExitCode == 0:
		e.Killer = KillerCompleted
		e.Explanation = fmt.Sprintf("The process finished normally after %s, but its restart policy restarts it on exit 0: a long-running container should not exit.", ran)
	case t.ExitCode == 126:
		e.Killer = KillerApplication
		e.Explanation = "Exit 126 from a shell: the command was found but is not executable (missing execute bit, wrong architecture, or a directory)."
	case t.ExitCode == 127:
		e.Killer = KillerApplication
		e.Explanation = "Exit 127 from a shell: the command was not found in the image (wrong path, missing binary, or a PATH problem)."
	case t.ExitCode == 139:
		e.Killer = KillerApplication
		e.Explanation = fmt.Sprintf("Segmentation fault (SIGSEGV) after %s: the process read or wrote memory it does not own, usually in native code.", ran)
	case t.ExitCode == 134:
		e.Killer = KillerApplication
		e.Explanation = fmt.Sprintf("Aborted (SIGABRT) after %s: the process called abort(), typically on a failed assertion or a fatal runtime error.", ran)
	case t.ExitCode == 143:
		e.Killer = KillerOutside
		e.Explanation = fmt.Sprintf("SIGTERM after %s with no probe kill recorded: something asked it to stop (a deletion, an eviction, another process).", ran)
	case t.ExitCode > 128 && e.Signal != "":
		e.Killer = KillerOutside
		e.Explanation = fmt.Sprintf("Ended by signal %d (%s) after %s.", t.ExitCode-128, e.Meaning, ran)
	default:
		e.Killer = KillerApplication
		e.Explanation = fmt.Sprintf("The application exited with %s after %s; its log says why.", codeText(t.ExitCode, e.Meaning), ran)
	}
	if e.KillInferred {
		e.Explanation += " (No Killing event falls within this run: the kubelet stops recording a pod's events after about 25; the same exit after earlier liveness kills is the evidence.)"
	}
	if e.Message != "" && e.Killer != KillerRuntime && e.Killer != KillerPodRestart {
		e.Explanation += " Termination message: " + firstLine(e.Message)
	}
	return e
}

func startErrorCause(msg string) string {
	switch {
	case strings.Contains(msg, "permission denied"):
		return "The command is not executable (permission denied): " + runcDetail(msg)
	case strings.Contains(msg, "no such file or directory"), strings.Contains(msg, "executable file not found"):
		return "The command does not exist in the image: " + runcDetail(msg)
	case msg != "":
		return runcDetail(msg)
	}
	return ""
}

// runcDetail keeps the end of a runc error, where the useful part is.
func runcDetail(msg string) string {
	msg = firstLine(msg)
	if i := strings.LastIndex(msg, "exec: "); i >= 0 {
		return msg[i:]
	}
	if i := strings.LastIndex(msg, "stat "); i >= 0 {
		return msg[i:]
	}
	return msg
}

// killingEventFor finds the kubelet's probe Killing event for the container
// that falls within its last run.
func killingEventFor(container string, t *corev1.ContainerStateTerminated, events []corev1.Event) *corev1.Event {
	for i := range events {
		ev := &events[i]
		if ev.Reason != "Killing" || !strings.Contains(ev.Message, "probe") || !eventForContainer(ev, container) {
			continue
		}
		first, last := EventTimes(ev)
		start, end := t.StartedAt.Time, t.FinishedAt.Time
		if end.IsZero() {
			continue
		}
		// Folded events span [first, last]; any overlap with the run counts.
		if !last.Before(start.Add(-2*time.Second)) && !first.After(end.Add(2*time.Second)) {
			return ev
		}
	}
	return nil
}

// probeFailingAtEnd: a liveness or startup probe of the container failed
// within the last seconds of the run (the kubelet kills at the threshold).
func probeFailingAtEnd(container string, t *corev1.ContainerStateTerminated, events []corev1.Event) bool {
	for i := range events {
		ev := &events[i]
		if ev.Reason != "Unhealthy" || !eventForContainer(ev, container) ||
			!(strings.HasPrefix(ev.Message, "Liveness probe") || strings.HasPrefix(ev.Message, "Startup probe")) {
			continue
		}
		_, last := EventTimes(ev)
		if end := t.FinishedAt.Time; !last.Before(end.Add(-5*time.Second)) && !last.After(end.Add(2*time.Second)) && !last.Before(t.StartedAt.Time) {
			return true
		}
	}
	return false
}

// latestKillingEvent is the container's most recent probe Killing event.
func latestKillingEvent(container string, events []corev1.Event) *corev1.Event {
	var best *corev1.Event
	var bestAt time.Time
	for i := range events {
		ev := &events[i]
		if ev.Reason != "Killing" || !strings.Contains(ev.Message, "probe") || !eventForContainer(ev, container) {
			continue
		}
		if _, last := EventTimes(ev); best == nil || last.After(bestAt) {
			best, bestAt = ev, last
		}
	}
	return best
}

// eventForContainer matches an event's field path ("spec.containers{app}")
// or, failing that, its message ("Container app failed liveness probe").
func eventForContainer(ev *corev1.Event, container string) bool {
	if fp := ev.InvolvedObject.FieldPath; fp != "" {
		return strings.HasSuffix(fp, "{"+container+"}")
	}
	return strings.Contains(ev.Message, "Container "+container+" ")
}

// EventTimes returns when an event first and last happened, whichever API
// fields the producer filled (core/v1 counts, series, or events.k8s.io
// event times).
func EventTimes(ev *corev1.Event) (first, last time.Time) {
	first, last = ev.FirstTimestamp.Time, ev.LastTimestamp.Time
	if ev.Series != nil && !ev.Series.LastObservedTime.IsZero() {
		last = ev.Series.LastObservedTime.Time
	}
	if first.IsZero() {
		first = ev.EventTime.Time
	}
	if last.IsZero() {
		last = first
	}
	if first.IsZero() {
		first = ev.CreationTimestamp.Time
		last = first
	}
	return first, last
}

func gracePeriod(pod *corev1.Pod) int64 {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

func restartPolicy(pod *corev1.Pod) corev1.RestartPolicy {
	if pod.Spec.RestartPolicy == "" {
		return corev1.RestartPolicyAlways
	}
	return pod.Spec.RestartPolicy
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// humanDuration prints a duration the way kubectl does (45s, 3m12s, 15m,
// 5h3m): apimachinery's format, the same as the list's and the report's.
func humanDuration(d time.Duration) string { return duration.HumanDuration(max(d, 0)) }
