package diagnose

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Diagnose explains one container of a pod.
func Diagnose(in Input) Report {
	pod := in.Pod
	c, cs, isInit, verdict := pickContainer(pod, in.Container, in.Now)
	r := Report{Pod: PodRef{Namespace: pod.Namespace, Name: pod.Name, Container: c.Name, Init: isInit, Node: pod.Spec.NodeName,
		OwnerChain: in.OwnerChain}}
	if len(in.OwnerChain) > 0 {
		r.Pod.Owner = in.OwnerChain[len(in.OwnerChain)-1]
	}
	r.Restarts = cs.RestartCount
	r.Exit = explainExit(pod, cs, in.Events)
	r.Log = ClassifyLog(strings.NewReader(in.PreviousLog))
	r.Events = FoldEvents(in.Events)
	r.State = verdict.row.State
	// The rulebook's verdict, refined by what only the detail reads: a
	// FailedMount event says at once what the clock says after a minute.
	r.Crashing = verdict.failing || (cs.State.Waiting != nil && cs.State.Waiting.Reason == "ContainerCreating" && hasEvent(in.Events, "FailedMount", ""))
	// A back-off timeline only for an exit the container's policy and rules
	// restart: never a countdown to a restart that will not come.
	// A whole-pod restart comes at once, with no back-off, and its
	// placeholder exit is not one.
	if r.Exit != nil {
		placeholder, next := r.Exit.Reason == reasonRestartingAll, restartOn(pod, c, r.Exit.Code)
		if cs.RestartCount > 0 && !podEnded(pod) && !placeholder && next.restart && !next.wholePod {
			r.Backoff = timeline(cs, in.BackoffCap, in.Now)
		}
		rule, _ := wholePodRule(c)
		r.wholePod = rule != nil && (placeholder || next.wholePod)
	}
	r.Pod.Sidecar = isSidecar(pod.Spec.InitContainers, c.Name)
	ev := gatherProbeEvidence(pod, cs, r.Exit, in.Events)
	target := "Pod/" + pod.Name
	if in.Deployment != nil {
		target = "Deployment/" + in.Deployment.Name
	} else if len(in.OwnerChain) > 0 && !strings.HasPrefix(r.Pod.Owner, "ReplicaSet/") {
		target = r.Pod.Owner
	}
	r.Probes = compareProbes(&pod.Spec, c, in.Template, ev, target, pod.Namespace)

	var f []Finding
	f = append(f, waitingFindings(pod, c, cs, in.Events)...)
	f = append(f, exitFindings(pod, c, cs, r.Exit, r.Log, in.PreviousLogErr, target)...)
	f = append(f, probeFindings(c, ev)...)
	if ev.livenessKilled != nil && (r.Exit == nil || r.Exit.KillEvent == nil) {
		f = append(f, livenessKillFinding(c, ev.livenessKilled, nil))
	}
	if rf, ok := restartRuleFinding(pod, c, r.Exit); ok {
		f = append(f, rf)
	}
	if jf, ok := jobFinding(pod, in.Job); ok && r.Crashing {
		f = append(f, jf)
	}
	if r.Pod.Sidecar && r.Crashing {
		f = append(f, sidecarFinding(c))
	}
	if isInit && r.Crashing && r.State == StateInitStuck {
		f = append(f, initStuckFinding(c, cs, r.Log, in.Now))
	} else if isInit && r.Crashing {
		f = append(f, Finding{ID: FindingInitContainerFailing, Category: CategoryApplication, Severity: SeverityError,
			Verdict:  fmt.Sprintf("Init container %s fails, so the pod's app containers never start (%s).", c.Name, orWord(r.State, "Init:Error")),
			Evidence: []Evidence{{Kind: "status", Source: "status.initContainerStatuses{" + c.Name + "}", Quote: fmt.Sprintf("restartCount=%d", cs.RestartCount)}},
			Fix:      Fix{Text: "Fix what the init container waits for or runs (its log below says what failed); the pod starts once it exits 0."}})
	}
	if r.Backoff != nil {
		f = append(f, backoffFindings(r.Backoff, r.Exit)...)
	}
	if rf, ok := rolloutFinding(pod, c.Name, in.Deployment, in.ReplicaSets, r.Crashing); ok {
		f = append(f, rf)
	}
	judgeProbeKill(f, r.Log.Cause)
	if r.Crashing && !slices.ContainsFunc(f, explainsStop) {
		f = append(f, causeUnknown(c, cs, r))
	}
	sort.SliceStable(f, func(i, j int) bool { return rankOf(f[i]) > rankOf(f[j]) })
	if !r.Crashing {
		// A healthy container is reported as healthy first; what else was
		// found is advice.
		for i := range f {
			f[i].Severity = SeverityInfo
		}
		f = append([]Finding{{ID: FindingNotCrashing, Category: CategoryApplication, Severity: SeverityInfo,
			Verdict:  fmt.Sprintf("Container %s is not crashing: %s, %d restarts.", c.Name, orWord(r.State, "Running"), cs.RestartCount),
			Evidence: []Evidence{{Kind: "status", Source: "status.containerStatuses{" + c.Name + "}", Quote: fmt.Sprintf("ready=%v restartCount=%d", cs.Ready, cs.RestartCount)}}}}, f...)
	}
	r.Findings = dedupe(f)
	if m := r.Log.Cause; m != nil && m.Kind == LogOOM && r.Exit != nil && r.Exit.Killer == KillerApplication {
		// The exit pane says what the finding says: the runtime gave up,
		// the kernel did not kill it.
		r.Exit.Explanation += " Its log says the " + runtimeOf(m.Text).name + " ran out of memory (" + m.Text + "): the app's own memory limit, not an OOM kill."
	}
	return r
}

// initStuckFinding: an init step that runs on keeps the pod from starting;
// its log (the running instance's) says what it waits for.
func initStuckFinding(c *corev1.Container, cs corev1.ContainerStatus, log LogSummary, now time.Time) Finding {
	ran := "a long time"
	if r := cs.State.Running; r != nil && !now.IsZero() {
		ran = humanDuration(now.Sub(r.StartedAt.Time))
	}
	verdict := fmt.Sprintf("Init container %s has been running for %s and has not finished, so the pod's app containers never start (it never crashed: 0 restarts is not health). crashlens calls an init step failing after %s, the kubelet's longest crash-loop back-off: by then a step that crashed would have been retried at its slowest.", c.Name, ran, humanDuration(initStuckAfter))
	ev := []Evidence{{Kind: "status", Source: "status.initContainerStatuses{" + c.Name + "}.state.running.startedAt", Quote: cs.State.Running.StartedAt.UTC().Format(time.RFC3339)}}
	m := log.Cause
	if m == nil {
		m = log.FirstError
	}
	if m != nil {
		verdict += " Its log: " + m.Text
		ev = append(ev, Evidence{Kind: "log", Source: fmt.Sprintf("log line %d", m.Line), Quote: m.Text})
	}
	return Finding{ID: FindingInitStuck, Category: CategoryEnvironment, Severity: SeverityError, Verdict: verdict, Evidence: ev,
		Fix: Fix{Text: "Make what the init step waits for exist (a Service, a migration, a file), or give the step a timeout so it fails visibly; a wait loop without one blocks the pod forever."}}
}

// sidecarFinding says what a native sidecar's crash does to its pod.
func sidecarFinding(c *corev1.Container) Finding {
	return Finding{ID: FindingSidecarCrash, Category: CategoryApplication, Severity: SeverityWarning,
		Verdict:  fmt.Sprintf("%s is a native sidecar (an init container with restartPolicy Always): the kubelet restarts it on its own and the app containers keep running, but while it is down what it provides (log shipping, a proxy, credentials) is missing, and its readiness counts in the pod's Ready condition, so the pod may leave its Services' endpoints.", c.Name),
		Evidence: []Evidence{{Kind: "spec", Source: "spec.initContainers{" + c.Name + "}.restartPolicy", Quote: "Always"}},
		Fix:      Fix{Text: "Fix the sidecar's own cause (above); if the app must not serve without it, give the app a readiness probe that checks it."}}
}

// probeFaults are the findings that say a probe is wrong for the app.
var probeFaults = []string{FindingLivenessSharesReadiness, FindingLivenessChecksDeps, FindingNoStartupForSlowStart,
	FindingLivenessBudgetShort, FindingProbeTimeoutTight}

// judgeProbeKill gives a probe kill the category the evidence gives it:
// configuration when a probe finding says the probe is wrong for the app
// (it checks readiness or dependencies, its budget is shorter than the
// start, its timeout too tight), application when the probes look sound and
// the app stopped answering them; the log's cause line, if any, says why.
func judgeProbeKill(f []Finding, logCause *LogMatch) {
	i := slices.IndexFunc(f, func(x Finding) bool { return x.ID == FindingLivenessKill || x.ID == FindingStartupKill })
	if i < 0 {
		return
	}
	var faults []string
	for _, x := range f {
		if slices.Contains(probeFaults, x.ID) {
			faults = append(faults, x.ID)
		}
	}
	k := &f[i]
	if len(faults) > 0 {
		k.Category = CategoryConfiguration
		k.Verdict += " The probe is wrong for this app (" + strings.Join(faults, ", ") + ")."
		return
	}
	k.Category = CategoryApplication
	k.Verdict += " Its probe looks sound for the app, so the app stopped answering it"
	if logCause != nil && familyOf(logCause.Kind).rank != rankSymptom {
		k.Verdict += "; its log says why: " + logCause.Text
	} else {
		k.Verdict += " (a hang, a deadlock, a dependency it waits on without a timeout)."
	}
	k.Fix.Text = "Find why the app stops answering its probe: take a thread or goroutine dump before the kill, look for locks and calls without timeouts; the probe itself looks right."
}

// causeUnknown is the honest finding when the container fails and nothing
// crashlens read names why: it says what it saw, and that it does not know.
func causeUnknown(c *corev1.Container, cs corev1.ContainerStatus, r Report) Finding {
	verdict := fmt.Sprintf("Not a class of failure crashlens knows: container %s is %s", c.Name, orWord(r.State, "failing"))
	if r.wholePod && r.Exit != nil && r.Exit.Code < 0 {
		verdict = fmt.Sprintf("Container %s's exits restart the whole pod through its own rule, and nothing left to read says why it exits: "+
			"the status keeps no exit and the API no log of the removed instance (the History pane has them for exits crashlens captured)", c.Name)
	} else if r.Exit != nil {
		verdict += ", last exit " + codeText(r.Exit.Code, r.Exit.Meaning)
	}
	verdict += "."
	ev := []Evidence{{Kind: "status", Source: "status.containerStatuses{" + c.Name + "}", Quote: fmt.Sprintf("state=%s restartCount=%d", orWord(r.State, "-"), cs.RestartCount)}}
	if w := cs.State.Waiting; w != nil && w.Message != "" {
		verdict += " The kubelet says: " + firstLine(w.Message)
		ev = append(ev, Evidence{Kind: "status", Source: "state.waiting.message", Quote: firstLine(w.Message)})
	}
	if r.Log.FirstError != nil {
		verdict += " The first error line of its log is the best lead: " + r.Log.FirstError.Text
		ev = append(ev, Evidence{Kind: "log", Source: fmt.Sprintf("previous log line %d", r.Log.FirstError.Line), Quote: r.Log.FirstError.Text})
	}
	return Finding{ID: FindingCauseUnknown, Category: CategoryApplication, Severity: SeverityError, Verdict: verdict, Evidence: ev,
		Fix: Fix{Text: "Read the events and the previous log of the container (the panes below); kubectl describe pod shows what the kubelet last tried."}}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dedupe(f []Finding) []Finding {
	seen := map[string]bool{}
	out := f[:0]
	for _, x := range f {
		if !seen[x.ID] {
			seen[x.ID] = true
			out = append(out, x)
		}
	}
	return out
}

func hasEvent(events []corev1.Event, reason, contains string) bool {
	for i := range events {
		if events[i].Reason == reason && strings.Contains(events[i].Message, contains) {
			return true
		}
	}
	return false
}

func gatherProbeEvidence(pod *corev1.Pod, cs corev1.ContainerStatus, exit *ExitExplanation, events []corev1.Event) probeEvidence {
	var ev probeEvidence
	if exit != nil && exit.KillEvent != nil {
		ev.livenessKilled = exit.KillEvent
		ev.ranBeforeKill = time.Duration(exit.RanSeconds * float64(time.Second))
	} else {
		for i := range events {
			e := &events[i]
			if e.Reason == "Killing" && strings.Contains(e.Message, "failed liveness probe") && eventForContainer(e, cs.Name) {
				ev.livenessKilled = e
			}
		}
	}
	ready := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			ready = true
			if r := cs.State.Running; r != nil && c.LastTransitionTime.After(r.StartedAt.Time) {
				ev.observedStart = c.LastTransitionTime.Sub(r.StartedAt.Time)
			}
		}
	}
	ev.neverReady = !ready && ev.livenessKilled != nil
	for i := range events {
		e := &events[i]
		if e.Reason != "Unhealthy" || !eventForContainer(e, cs.Name) {
			continue
		}
		if isProbeTimeout(e.Message) {
			ev.timeoutEvents = append(ev.timeoutEvents, e.Message)
		}
		if strings.HasPrefix(e.Message, "Readiness probe failed") {
			ev.readinessFailed = append(ev.readinessFailed, e.Message)
		}
	}
	return ev
}

func isProbeTimeout(msg string) bool {
	for _, s := range []string{"Client.Timeout exceeded", "context deadline exceeded", "timeout: failed to connect", "timed out", "i/o timeout", "command timed out"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func livenessKillFinding(c *corev1.Container, kill *corev1.Event, exit *ExitExplanation) Finding {
	id, probe := FindingLivenessKill, "liveness"
	if strings.Contains(kill.Message, "startup probe") {
		id, probe = FindingStartupKill, "startup"
	}
	ev := []Evidence{{Kind: "event", Source: "event Killing", Quote: kill.Message}}
	verdict := fmt.Sprintf("The kubelet restarts %s because its %s probe fails; the application did not crash by itself.", c.Name, probe)
	if exit != nil {
		ev = append(ev, Evidence{Kind: "status", Source: "status.lastState.terminated", Quote: fmt.Sprintf("exitCode=%d reason=%s", exit.Code, exit.Reason)})
		verdict = fmt.Sprintf("The kubelet killed %s after failed %s probes; exit %d is the kill, not an application crash.", c.Name, probe, exit.Code)
	}
	return Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError, Verdict: verdict, Evidence: ev,
		Fix: Fix{Text: "Make the " + probe + " probe match how the app starts and what it checks (see the probe diff and patch)."}}
}
