package diagnose

// Findings that explain why the container stopped: its exit in context, the
// log lines behind it, and the back-off that follows.

import (
	"cmp"
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
	// The instance that ended is the current one (a Job's attempt, a
	// container nothing restarts) or the previous one: say which the
	// evidence was read from.
	state, logName := "lastState", "previous log"
	if _, _, current := LastTermination(cs); current {
		state, logName = "state", "log"
	}
	src := "status.containerStatuses{" + c.Name + "}." + state + ".terminated"
	status := Evidence{Kind: "status", Source: src, Quote: fmt.Sprintf("exitCode=%d reason=%s", exit.Code, exit.Reason)}
	withLog := func(f Finding, m *LogMatch) Finding {
		f.Evidence = append(f.Evidence, status)
		if m != nil {
			f.Evidence = append(f.Evidence, Evidence{Kind: "log", Source: fmt.Sprintf("%s line %d", logName, m.Line), Quote: m.Text})
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
		if m := log.Cause; m != nil {
			// Why the app stopped answering, when its log says.
			if f, ok := logCauseFinding(pod, c, m); ok {
				out = append(out, withLog(f, m))
			}
		}
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
		ran := humanDuration(time.Duration(exit.RanSeconds * float64(time.Second)))
		verdict := fmt.Sprintf("Killed from outside with SIGKILL after running %s: no OOM and no probe kill. Something else (a chaos tool, a sidecar, a human, node pressure) kills it.", ran)
		fix := "Find who sends the SIGKILL (chaos experiments, sidecars sharing the process namespace, node-level agents); crashlens saw no kubelet action."
		if exit.Code != 137 {
			verdict = fmt.Sprintf("Ended by %s after running %s, with no probe kill recorded: a signal from outside the app (a deletion or eviction, another process, a human) or one the app raised itself.", cmp.Or(exit.Signal, exit.Meaning, fmt.Sprintf("exit %d", exit.Code)), ran)
			fix = "Find who sends the signal (kubectl get events for deletions and evictions, chaos tools, sidecars sharing the process namespace); the log's last lines say whether the app raised it."
		}
		out = append(out, withLog(Finding{ID: FindingExternalKill, Category: CategoryEnvironment, Severity: SeverityWarning,
			Verdict: verdict, Fix: Fix{Text: fix}}, nil))
	case KillerRuntime:
		if m, ok := classifyLine(firstLine(exit.Message)); ok && m.Kind == LogIncompatible {
			f, _ := logCauseFinding(pod, c, &m)
			f.Evidence = []Evidence{{Kind: "status", Source: src + ".message", Quote: firstLine(exit.Message)}}
			out = append(out, f)
			break
		}
		id, verdict := FindingCommandNotFound, "The command does not exist in the image"
		if strings.Contains(exit.Message, "permission denied") {
			id, verdict = FindingNotExecutable, "The command is not executable"
		}
		out = append(out, Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  verdict + " (exit 128, StartError): " + runcDetail(exit.Message) + ".",
			Evidence: []Evidence{{Kind: "status", Source: src + ".message", Quote: firstLine(exit.Message)}},
			Fix:      Fix{Text: "Fix command/args or the image: the path must exist and be executable for the image's architecture."}})
	case KillerCompleted:
		d := restartOn(pod, c, 0)
		if !d.restart {
			return nil // a Job's pod that finished, or an exit its rules end: nothing wrong
		}
		why := "restartPolicy " + string(d.policy)
		if d.rule != nil {
			why = ruleText(d.rule, d.index)
		}
		out = append(out, withLog(Finding{ID: FindingExitZeroUnderAlways, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("The container exits 0 (Completed) and its %s restarts it: a one-shot task is running as a long-lived workload.", why),
			Fix:     Fix{Text: "Run one-shot work as a Job or CronJob, or make the process stay in the foreground (no daemonising, no trailing `&`)."}}, log.FirstError))
	case KillerApplication:
		out = append(out, appExitFindings(pod, c, exit, log, logErr, withLog)...)
	}
	return out
}

// appExitFindings explain an exit the process chose. The log's cause line
// (LogSummary.Cause) comes first when there is one: it names why, where the
// exit code only says how (.NET and Node.js abort on any fatal error, the
// dynamic loader exits 127 for a missing library, bash 126 for a CRLF
// script). Without one, the exit code's own finding, and failing that an
// honest "not a class crashlens knows" that quotes the first error line.
func appExitFindings(pod *corev1.Pod, c *corev1.Container, exit *ExitExplanation, log LogSummary, logErr string, withLog func(Finding, *LogMatch) Finding) []Finding {
	if m := log.Cause; m != nil && exit.Code == 126 && m.Kind == LogPermissionDenied {
		// A shell's 126 with "Permission denied" is the command's missing
		// execute bit, not a write the process was refused.
		return []Finding{withLog(Finding{ID: FindingNotExecutable, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 126: the command exists but cannot be executed" + detailOf(m) + ".",
			Fix:     Fix{Text: "Give the file its execute bit in the image (chmod +x in the Dockerfile) or run it through its interpreter (sh /app/run.sh)."}}, m)}
	}
	if m := log.Cause; m != nil {
		if f, ok := logCauseFinding(pod, c, m); ok {
			return []Finding{withLog(f, m)}
		}
	}
	switch exit.Code {
	case 127:
		return []Finding{withLog(Finding{ID: FindingCommandNotFound, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 127: the shell could not find the command.",
			Fix:     Fix{Text: "Fix the command path in the pod template or add the binary to the image; check the image tag is the one you built."}}, nil)}
	case 126:
		return []Finding{withLog(Finding{ID: FindingNotExecutable, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 126: the command exists but cannot be executed.",
			Fix:     Fix{Text: "Give the file its execute bit in the image (chmod +x in the Dockerfile) or run it through its interpreter (sh /app/run.sh)."}}, nil)}
	case 139:
		return []Finding{withLog(Finding{ID: FindingSegfault, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Segmentation fault (exit 139, SIGSEGV): the process accessed invalid memory, usually in native code or a library mismatch.",
			Fix:     Fix{Text: "Check native libraries against the image's libc and CPU architecture; get a core dump or run the same image locally to reproduce."}}, log.FirstError)}
	case 134:
		return []Finding{withLog(Finding{ID: FindingAbort, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Aborted (exit 134, SIGABRT): the process called abort(), usually a failed assertion or a fatal runtime error.",
			Fix:     Fix{Text: "The lines before the abort in the log name the failed check."}}, log.FirstError)}
	}
	ran := ""
	if exit.RanSeconds >= 1 {
		ran = " after " + humanDuration(time.Duration(exit.RanSeconds*float64(time.Second)))
	}
	verdict := fmt.Sprintf("Not a class of crash crashlens knows: the application exited with %s%s, and no line of its log names a cause crashlens recognises.",
		codeText(exit.Code, exit.Meaning), ran)
	switch {
	case log.Empty && logErr == "":
		verdict += " It wrote nothing to its log: a crash before any output points at the command, the image or the environment."
	case log.FirstError != nil:
		verdict += fmt.Sprintf(" The first error line (line %d) is the best lead: %s", log.FirstError.Line, log.FirstError.Text)
	case logErr != "":
		verdict += " Its previous log is not available: " + logErr
	default:
		verdict += " Its log has no error line either."
	}
	return []Finding{withLog(Finding{ID: FindingAppErrorExit, Category: CategoryApplication, Severity: SeverityError, Verdict: verdict,
		Fix: Fix{Text: "Read the previous log around the first error; run the image locally with the same env and args to reproduce."}}, log.FirstError)}
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
