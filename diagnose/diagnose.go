package diagnose

import (
	"fmt"
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
	if r.Exit != nil && cs.RestartCount > 0 {
		r.Backoff = timeline(cs, in.BackoffCap, in.Now)
	}
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
	if isInit && r.Crashing {
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
	if m := r.Log.matchOf(LogOOM); m != nil && r.Exit != nil && r.Exit.Killer == KillerApplication {
		// The exit pane says what the finding says: the runtime gave up,
		// the kernel did not kill it.
		r.Exit.Explanation += " Its log says the " + runtimeOf(m.Text).name + " ran out of memory (" + m.Text + "): the app's own memory limit, not an OOM kill."
	}
	return r
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
