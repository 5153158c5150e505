package diagnose

// Findings that explain why the container stopped: its exit in context, the
// log lines behind it, and the back-off that follows.

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// exitFindings explain the last termination.
func exitFindings(pod *corev1.Pod, c *corev1.Container, cs corev1.ContainerStatus, exit *ExitExplanation, log LogSummary, logErr, target string) []Finding {
	if exit == nil {
		return nil
	}
	var out []Finding
	src := "status.containerStatuses{" + c.Name + "}.lastState.terminated"
	status := Evidence{Kind: "status", Source: src, Quote: fmt.Sprintf("exitCode=%d reason=%s", exit.Code, exit.Reason)}
	withLog := func(f Finding, m *LogMatch) Finding {
		f.Evidence = append(f.Evidence, status)
		if m != nil {
			f.Evidence = append(f.Evidence, Evidence{Kind: "log", Source: fmt.Sprintf("previous log line %d", m.Line), Quote: m.Text})
		}
		return f
	}
	switch exit.Killer {
	case KillerOOM:
		f := Finding{ID: FindingOOMKilled, Category: CategoryResources, Severity: SeverityError,
			Verdict: fmt.Sprintf("Out of memory: the container hit its memory limit (%s) and the kernel killed it (exit 137, OOMKilled).", memLimit(c)),
			Fix:     Fix{Text: "Raise the memory limit above the peak the app needs, or cap the app's heap (JVM -Xmx, Node --max-old-space-size) below it.", Patch: memoryPatch(c, target)}}
		out = append(out, withLog(f, log.matchOf(LogOOM)))
	case KillerLiveness, KillerStartup:
		out = append(out, livenessKillFinding(c, exit.KillEvent, exit))
	case KillerGracePeriod:
		out = append(out, livenessKillFinding(c, exit.KillEvent, exit))
		kill := exit.KillEvent
		_, killedAt := EventTimes(kill)
		when := fmt.Sprintf("%s after the kubelet's kill", humanDuration(exit.FinishedAt.Sub(killedAt)))
		if exit.KillInferred {
			when = "after the kubelet's kill"
		}
		out = append(out, Finding{ID: FindingGracePeriodKill, Category: CategoryApplication, Severity: SeverityWarning,
			Verdict: fmt.Sprintf("The process ignored SIGTERM: it ended with SIGKILL %s, at the end of the %ds grace period. PID 1 is probably a shell or a program without a SIGTERM handler.", when, exit.GraceSeconds),
			Evidence: []Evidence{{Kind: "event", Source: "event Killing", Quote: kill.Message},
				{Kind: "status", Source: src + ".finishedAt", Quote: exit.FinishedAt.UTC().Format(time.RFC3339)}},
			Fix: Fix{Text: "Run the app as PID 1 (exec it from the entrypoint script, or use tini/dumb-init) and handle SIGTERM, so shutdowns are graceful and fast."}})
	case KillerOutside:
		if exit.Code == 137 {
			out = append(out, Finding{ID: FindingExternalKill, Category: CategoryEnvironment, Severity: SeverityWarning,
				Verdict:  fmt.Sprintf("Killed from outside with SIGKILL after running %s: no OOM and no probe kill. Something else (a chaos tool, a sidecar, a human, node pressure) kills it.", humanDuration(time.Duration(exit.RanSeconds*float64(time.Second)))),
				Evidence: []Evidence{status},
				Fix:      Fix{Text: "Find who sends the SIGKILL (chaos experiments, sidecars sharing the process namespace, node-level agents); crashlens saw no kubelet action."}})
		}
	case KillerRuntime:
		id, verdict := FindingCommandNotFound, "The command does not exist in the image"
		if strings.Contains(exit.Message, "permission denied") {
			id, verdict = FindingNotExecutable, "The command is not executable"
		}
		out = append(out, Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  verdict + " (exit 128, StartError): " + runcDetail(exit.Message) + ".",
			Evidence: []Evidence{{Kind: "status", Source: src + ".message", Quote: firstLine(exit.Message)}},
			Fix:      Fix{Text: "Fix command/args or the image: the path must exist and be executable for the image's architecture."}})
	case KillerCompleted:
		if restartPolicy(pod) != corev1.RestartPolicyAlways {
			return nil // a Job's pod that finished: nothing wrong
		}
		out = append(out, withLog(Finding{ID: FindingExitZeroUnderAlways, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("The container exits 0 (Completed) and restartPolicy %s restarts it: a one-shot task is running as a long-lived workload.", restartPolicy(pod)),
			Fix:     Fix{Text: "Run one-shot work as a Job or CronJob, or make the process stay in the foreground (no daemonising, no trailing `&`)."}}, log.FirstError))
	case KillerApplication:
		out = append(out, appExitFindings(pod, c, exit, log, logErr, withLog)...)
	}
	return out
}

func appExitFindings(pod *corev1.Pod, c *corev1.Container, exit *ExitExplanation, log LogSummary, logErr string, withLog func(Finding, *LogMatch) Finding) []Finding {
	var out []Finding
	if m := log.matchOf(LogOOM); m != nil {
		// Before the exit code: a runtime that runs out of memory may end in
		// an abort (Node.js, .NET: 134) that is only how it gave up.
		out = append(out, withLog(appOutOfMemory(c, m), m))
		return out
	}
	switch exit.Code {
	case 127:
		out = append(out, withLog(Finding{ID: FindingCommandNotFound, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 127: the shell could not find the command" + detailOf(log.matchOf(LogNotFound)) + ".",
			Fix:     Fix{Text: "Fix the command path in the pod template or add the binary to the image; check the image tag is the one you built."}}, log.matchOf(LogNotFound)))
		return out
	case 126:
		out = append(out, withLog(Finding{ID: FindingNotExecutable, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 126: the command exists but cannot be executed" + detailOf(log.matchOf(LogPermissionDenied)) + ".",
			Fix:     Fix{Text: "Give the file its execute bit in the image (chmod +x in the Dockerfile) or run it through its interpreter (sh /app/run.sh)."}}, log.matchOf(LogPermissionDenied)))
		return out
	case 139:
		out = append(out, withLog(Finding{ID: FindingSegfault, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Segmentation fault (exit 139, SIGSEGV): the process accessed invalid memory, usually in native code or a library mismatch.",
			Fix:     Fix{Text: "Check native libraries against the image's libc and CPU architecture; get a core dump or run the same image locally to reproduce."}}, log.FirstError))
		return out
	case 134:
		out = append(out, withLog(Finding{ID: FindingAbort, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Aborted (exit 134, SIGABRT): the process called abort(), usually a failed assertion or a fatal runtime error.",
			Fix:     Fix{Text: "The lines before the abort in the log name the failed check."}}, log.FirstError))
		return out
	}
	type logFinding struct {
		kinds   []string
		id, cat string
		verdict func(m *LogMatch) string
		fix     string
	}
	rules := []logFinding{
		{[]string{LogConnRefused, LogNoSuchHost, LogTimeout}, FindingDependencyUnreachable, CategoryEnvironment,
			func(m *LogMatch) string {
				return "A dependency is unreachable" + detailOf(m) + ": the app gives up and exits."
			}, "Make sure the dependency runs and is reachable at that address (Service, DNS, NetworkPolicy, sidecar); let the app retry with back-off instead of exiting, or gate start-up on readiness."},
		{[]string{LogPermissionDenied, LogReadOnlyFS}, FindingPermissionDenied, CategoryConfiguration,
			func(m *LogMatch) string {
				return "The process may not write where it tries to" + detailOf(m) + "."
			}, "Give the path to the container's user (fsGroup/runAsUser in securityContext, an emptyDir or volume mounted there) or write somewhere writable."},
		{[]string{LogAddressInUse}, FindingPortInUse, CategoryConfiguration,
			func(m *LogMatch) string { return "The port is already in use" + detailOf(m) + "." },
			"Two processes or containers in the pod bind the same port (pods share one network namespace); change one of them."},
		{[]string{LogConfigError}, FindingConfigError, CategoryConfiguration,
			func(m *LogMatch) string { return "The app rejects its configuration or arguments: " + m.Text },
			"Fix the flags, environment or config file the app reads; compare with the last version that worked."},
	}
	if m := log.matchOf(LogNoSuchFile); m != nil {
		out = append(out, withLog(missingFile(pod, c, m), m))
		return out
	}
	for _, r := range rules {
		if m := log.matchOf(r.kinds...); m != nil {
			out = append(out, withLog(Finding{ID: r.id, Category: r.cat, Severity: SeverityError, Verdict: r.verdict(m), Fix: Fix{Text: r.fix}}, m))
			return out
		}
	}
	verdict := fmt.Sprintf("The application exited with code %d (%s).", exit.Code, exit.Meaning)
	switch {
	case log.Empty && logErr == "":
		verdict += " It wrote nothing to its log: a crash before any output points at the command, the image or the environment."
	case log.FirstError != nil:
		verdict += " First error in the log: " + log.FirstError.Text
	case logErr != "":
		verdict += " Its previous log is not available: " + logErr
	}
	out = append(out, withLog(Finding{ID: FindingAppErrorExit, Category: CategoryApplication, Severity: SeverityError, Verdict: verdict,
		Fix: Fix{Text: "Read the previous log around the first error; run the image locally with the same env and args to reproduce."}}, log.FirstError))
	return out
}

func detailOf(m *LogMatch) string {
	if m == nil || m.Detail == "" {
		return ""
	}
	return " (" + m.Detail + ")"
}

// backoffMatters: runs this long look like recoveries to a user, who then
// expects the back-off to reset; it does only after BackoffResetWindow.
const backoffMatters = 20 * time.Second

func backoffFindings(tl *Timeline, exit *ExitExplanation) []Finding {
	run := time.Duration(tl.LastRunSeconds * float64(time.Second))
	killer := ""
	if exit != nil {
		killer = exit.Killer
	}
	killed := killer == KillerOutside || killer == KillerLiveness || killer == KillerStartup || killer == KillerGracePeriod
	// An app that dies at once is explained by its crash; the never-resetting
	// back-off matters once runs are long enough to pass for a recovery, or
	// when something kills the container after a while (seed 04).
	if tl.WillReset || tl.Restarts < 2 || (!killed && run < backoffMatters) {
		return nil
	}
	window := humanDuration(BackoffResetWindow)
	node := "; on the node, a lower crashLoopBackOff.maxContainerRestartPeriod shortens each wait but does not change the reset window."
	var fix string
	switch killer {
	case KillerOutside:
		fix = fmt.Sprintf("Stop whatever kills it every %s or so (a chaos test: kill it less often than every %s), or make it survive past %s", humanDuration(run), window, window)
	case KillerLiveness, KillerStartup, KillerGracePeriod:
		fix = fmt.Sprintf("The kubelet's probe ends each run after about %s: fix the probe (see the probe diff) so a healthy run lasts past %s, which is when the back-off resets", humanDuration(run), window)
	default:
		fix = fmt.Sprintf("The app ends each run by itself after about %s: fix what makes it exit (the finding above); only a run past %s resets the back-off", humanDuration(run), window)
	}
	return []Finding{{ID: FindingBackoffNeverResets, Category: CategoryEnvironment, Severity: SeverityWarning,
		Verdict: fmt.Sprintf("The back-off will not reset: each run lasts about %s, and the kubelet resets a container's back-off only after it has run %s (a fixed figure, whatever the cap). So every restart waits the full %s.",
			humanDuration(run), window, humanDuration(time.Duration(tl.DelaySeconds*float64(time.Second)))),
		Evidence: []Evidence{{Kind: "status", Source: "status.lastState.terminated", Quote: fmt.Sprintf("ran %s; restartCount=%d", humanDuration(run), tl.Restarts)}},
		Fix:      Fix{Text: fix + node}}}
}

func memLimit(c *corev1.Container) string {
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		return q.String()
	}
	return "no limit set: the node's memory"
}

// memoryPatch doubles the container's memory limit on the owner.
func memoryPatch(c *corev1.Container, target string) string {
	q, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		return ""
	}
	doubled := resource.NewQuantity(q.Value()*2, resource.BinarySI)
	patch := map[string]any{"containers": []any{map[string]any{"name": c.Name, "resources": map[string]any{"limits": map[string]any{"memory": doubled.String()}}}}}
	if !strings.HasPrefix(target, "Pod/") {
		patch = map[string]any{"spec": map[string]any{"template": map[string]any{"spec": patch}}}
	}
	return mustYAML(patch)
}
