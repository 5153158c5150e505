package diagnose

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
			Fix:      Fix{Text: "Fix what the init container waits for or runs (its log below says what failed); the pod starts once it exits 0."},
			rank:     98})
	}
	if r.Backoff != nil {
		f = append(f, backoffFindings(r.Backoff, r.Exit)...)
	}
	if rf, ok := rolloutFinding(pod, c.Name, in.Deployment, in.ReplicaSets, r.Crashing); ok {
		f = append(f, rf)
	}
	if !r.Crashing && len(f) == 0 {
		f = append(f, Finding{ID: FindingNotCrashing, Category: CategoryApplication, Severity: SeverityInfo,
			Verdict:  fmt.Sprintf("Container %s is not crashing: %s, %d restarts.", c.Name, orWord(r.State, "Running"), cs.RestartCount),
			Evidence: []Evidence{{Kind: "status", Source: "status.containerStatuses{" + c.Name + "}", Quote: fmt.Sprintf("ready=%v restartCount=%d", cs.Ready, cs.RestartCount)}}})
	}
	sort.SliceStable(f, func(i, j int) bool { return f[i].rank > f[j].rank })
	r.Findings = dedupe(f)
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

// pickContainer returns the named container, or the one the rulebook
// blames (the list's row), else the first app container, with the
// rulebook's judgement of it.
func pickContainer(pod *corev1.Pod, name string, now time.Time) (*corev1.Container, corev1.ContainerStatus, bool, judgement) {
	if name == "" {
		name = FailingContainer(pod, now)
	}
	for _, list := range []struct {
		specs []corev1.Container
		init  bool
	}{{pod.Spec.InitContainers, true}, {pod.Spec.Containers, false}} {
		for i := range list.specs {
			if c := &list.specs[i]; c.Name == name {
				cs, j := containerJudgement(pod, name, list.init, now)
				return c, cs, j.row.Init, j
			}
		}
	}
	c := &corev1.Container{Name: name}
	cs := corev1.ContainerStatus{Name: name}
	return c, cs, false, judge(pod, &cs, false, now)
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
		Fix:  Fix{Text: "Make the " + probe + " probe match how the app starts and what it checks (see the probe diff and patch)."},
		rank: 95}
}

var (
	configKeyRE   = regexp.MustCompile(`couldn't find key (\S+) in (ConfigMap|Secret) ([\w.-]+)/([\w.-]+)`)
	configObjRE   = regexp.MustCompile(`(configmap|secret) "([\w.-]+)" not found`)
	pvcRE         = regexp.MustCompile(`persistentvolumeclaim "([\w.-]+)" not found`)
	mountVolumeRE = regexp.MustCompile(`for volume "([\w.-]+)"`)
)

// waitingFindings explain containers that cannot start: config refs, image
// pulls, mounts, runtime errors.
func waitingFindings(pod *corev1.Pod, c *corev1.Container, cs corev1.ContainerStatus, events []corev1.Event) []Finding {
	w := cs.State.Waiting
	if w == nil {
		return nil
	}
	var out []Finding
	src := "status.containerStatuses{" + c.Name + "}.state.waiting"
	switch w.Reason {
	case "CreateContainerConfigError", "CreateContainerError":
		fix := "Create the missing object or key, or fix the reference in the pod template."
		if m := configKeyRE.FindStringSubmatch(w.Message); m != nil {
			fix = fmt.Sprintf("Add key %s to %s %s/%s, or fix the key name in the env reference.", m[1], m[2], m[3], m[4])
		} else if m := configObjRE.FindStringSubmatch(w.Message); m != nil {
			fix = fmt.Sprintf("Create %s %q in namespace %s (kubectl -n %s create %s %s ...), or fix the reference.", m[1], m[2], pod.Namespace, pod.Namespace, m[1], m[2])
		}
		out = append(out, Finding{ID: FindingConfigRefMissing, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  "The container cannot be created: " + w.Message + ".",
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: w.Reason + ": " + w.Message}},
			Fix:      Fix{Text: fix}, rank: 100})
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
		msg := w.Message
		for i := range events {
			if events[i].Reason == "Failed" && strings.Contains(events[i].Message, "ailed to pull image") && eventForContainer(&events[i], c.Name) {
				msg = events[i].Message
			}
		}
		why, fix := classifyPull(msg)
		out = append(out, Finding{ID: FindingImagePullFailed, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  fmt.Sprintf("The image %s cannot be pulled: %s.", c.Image, why),
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: w.Reason}, {Kind: "event", Source: "event Failed", Quote: firstLine(msg)}},
			Fix:      Fix{Text: fix}, rank: 100})
	case "RunContainerError", "StartError":
		id, verdict := FindingCommandNotFound, "The container's command does not exist in the image"
		if strings.Contains(w.Message, "permission denied") {
			id, verdict = FindingNotExecutable, "The container's command is not executable"
		}
		out = append(out, Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  verdict + ": " + runcDetail(w.Message) + ".",
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: firstLine(w.Message)}},
			Fix:      Fix{Text: "Fix command/args in the pod template or the image's entrypoint (path, execute bit, architecture)."}, rank: 96})
	case "ContainerCreating", "PodInitializing":
		for i := range events {
			e := &events[i]
			if e.Reason != "FailedMount" {
				continue
			}
			fix := "Create the missing volume source or fix the volume definition."
			if m := configObjRE.FindStringSubmatch(e.Message); m != nil {
				fix = fmt.Sprintf("Create %s %q in namespace %s, or mark the volume optional.", m[1], m[2], pod.Namespace)
			} else if m := pvcRE.FindStringSubmatch(e.Message); m != nil {
				fix = fmt.Sprintf("Create PersistentVolumeClaim %q in namespace %s.", m[1], pod.Namespace)
			}
			vol := ""
			if m := mountVolumeRE.FindStringSubmatch(e.Message); m != nil {
				vol = " " + m[1]
			}
			out = append(out, Finding{ID: FindingMountFailed, Category: CategoryConfiguration, Severity: SeverityError,
				Verdict:  fmt.Sprintf("Volume%s cannot be mounted, so the pod stays in ContainerCreating: %s.", vol, firstLine(e.Message)),
				Evidence: []Evidence{{Kind: "event", Source: "event FailedMount", Quote: firstLine(e.Message)}},
				Fix:      Fix{Text: fix}, rank: 100})
			break
		}
	}
	return out
}

func classifyPull(msg string) (why, fix string) {
	switch {
	case strings.Contains(msg, "not found") || strings.Contains(msg, "manifest unknown"):
		return "the image or tag does not exist", "Fix the image name or tag, or push the image."
	case strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication required") || strings.Contains(msg, "denied"):
		return "the registry refused the credentials", "Add or fix imagePullSecrets for this registry."
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "dial tcp"):
		return "the registry is unreachable from the node", "Check the registry address and the node's network path to it (DNS, firewall, proxy)."
	case strings.Contains(msg, "Never"):
		return "imagePullPolicy is Never and the image is not on the node", "Load the image onto the node or change imagePullPolicy."
	}
	return "see the event", "Check the image reference, registry credentials and network."
}

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
			Fix:     Fix{Text: "Raise the memory limit above the peak the app needs, or cap the app's heap (JVM -Xmx, Node --max-old-space-size) below it.", Patch: memoryPatch(c, target)},
			rank:    100}
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
			Fix:  Fix{Text: "Run the app as PID 1 (exec it from the entrypoint script, or use tini/dumb-init) and handle SIGTERM, so shutdowns are graceful and fast."},
			rank: 52})
	case KillerOutside:
		if exit.Code == 137 {
			out = append(out, Finding{ID: FindingExternalKill, Category: CategoryEnvironment, Severity: SeverityWarning,
				Verdict:  fmt.Sprintf("Killed from outside with SIGKILL after running %s: no OOM and no probe kill. Something else (a chaos tool, a sidecar, a human, node pressure) kills it.", humanDuration(time.Duration(exit.RanSeconds*float64(time.Second)))),
				Evidence: []Evidence{status},
				Fix:      Fix{Text: "Find who sends the SIGKILL (chaos experiments, sidecars sharing the process namespace, node-level agents); crashlens saw no kubelet action."},
				rank:     70})
		}
	case KillerRuntime:
		id, verdict := FindingCommandNotFound, "The command does not exist in the image"
		if strings.Contains(exit.Message, "permission denied") {
			id, verdict = FindingNotExecutable, "The command is not executable"
		}
		out = append(out, Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  verdict + " (exit 128, StartError): " + runcDetail(exit.Message) + ".",
			Evidence: []Evidence{{Kind: "status", Source: src + ".message", Quote: firstLine(exit.Message)}},
			Fix:      Fix{Text: "Fix command/args or the image: the path must exist and be executable for the image's architecture."},
			rank:     96})
	case KillerCompleted:
		if restartPolicy(pod) != corev1.RestartPolicyAlways {
			return nil // a Job's pod that finished: nothing wrong
		}
		out = append(out, withLog(Finding{ID: FindingExitZeroUnderAlways, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("The container exits 0 (Completed) and restartPolicy %s restarts it: a one-shot task is running as a long-lived workload.", restartPolicy(pod)),
			Fix:     Fix{Text: "Run one-shot work as a Job or CronJob, or make the process stay in the foreground (no daemonising, no trailing `&`)."},
			rank:    90}, log.FirstError))
	case KillerApplication:
		out = append(out, appExitFindings(c, exit, log, logErr, withLog)...)
	}
	return out
}

func appExitFindings(c *corev1.Container, exit *ExitExplanation, log LogSummary, logErr string, withLog func(Finding, *LogMatch) Finding) []Finding {
	var out []Finding
	switch exit.Code {
	case 127:
		out = append(out, withLog(Finding{ID: FindingCommandNotFound, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 127: the shell could not find the command" + detailOf(log.matchOf(LogNotFound)) + ".",
			Fix:     Fix{Text: "Fix the command path in the pod template or add the binary to the image; check the image tag is the one you built."},
			rank:    96}, log.matchOf(LogNotFound)))
		return out
	case 126:
		out = append(out, withLog(Finding{ID: FindingNotExecutable, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "Exit 126: the command exists but cannot be executed" + detailOf(log.matchOf(LogPermissionDenied)) + ".",
			Fix:     Fix{Text: "Give the file its execute bit in the image (chmod +x in the Dockerfile) or run it through its interpreter (sh /app/run.sh)."},
			rank:    96}, log.matchOf(LogPermissionDenied)))
		return out
	case 139:
		out = append(out, withLog(Finding{ID: FindingSegfault, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Segmentation fault (exit 139, SIGSEGV): the process accessed invalid memory, usually in native code or a library mismatch.",
			Fix:     Fix{Text: "Check native libraries against the image's libc and CPU architecture; get a core dump or run the same image locally to reproduce."},
			rank:    90}, log.FirstError))
		return out
	case 134:
		out = append(out, withLog(Finding{ID: FindingAbort, Category: CategoryApplication, Severity: SeverityError,
			Verdict: "Aborted (exit 134, SIGABRT): the process called abort(), usually a failed assertion or a fatal runtime error.",
			Fix:     Fix{Text: "The lines before the abort in the log name the failed check."},
			rank:    90}, log.FirstError))
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
		{[]string{LogNoSuchFile}, FindingMissingFile, CategoryApplication,
			func(m *LogMatch) string {
				return "A file the app needs does not exist in the container" + detailOf(m) + "."
			}, "Ship the file in the image or mount it (ConfigMap, volume); check for paths from a developer's machine."},
		{[]string{LogAddressInUse}, FindingPortInUse, CategoryConfiguration,
			func(m *LogMatch) string { return "The port is already in use" + detailOf(m) + "." },
			"Two processes or containers in the pod bind the same port (pods share one network namespace); change one of them."},
		{[]string{LogConfigError}, FindingConfigError, CategoryConfiguration,
			func(m *LogMatch) string { return "The app rejects its configuration or arguments: " + m.Text },
			"Fix the flags, environment or config file the app reads; compare with the last version that worked."},
		{[]string{LogOOM}, FindingOOMKilled, CategoryResources,
			func(m *LogMatch) string { return "The app ran out of memory by its own measure: " + m.Text },
			"Raise the memory limit or cap the runtime's heap below it."},
	}
	for _, r := range rules {
		if m := log.matchOf(r.kinds...); m != nil {
			out = append(out, withLog(Finding{ID: r.id, Category: r.cat, Severity: SeverityError, Verdict: r.verdict(m), Fix: Fix{Text: r.fix}, rank: 85}, m))
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
		Fix:  Fix{Text: "Read the previous log around the first error; run the image locally with the same env and args to reproduce."},
		rank: 60}, log.FirstError))
	return out
}

func detailOf(m *LogMatch) string {
	if m == nil || m.Detail == "" {
		return ""
	}
	return " (" + m.Detail + ")"
}

func backoffFindings(tl *Timeline, exit *ExitExplanation) []Finding {
	run := time.Duration(tl.LastRunSeconds * float64(time.Second))
	killed := exit != nil && (exit.Killer == KillerOutside || exit.Killer == KillerLiveness || exit.Killer == KillerGracePeriod)
	// An app that dies at once is explained by its crash; the never-resetting
	// back-off matters for processes that run a while and are then killed.
	if tl.WillReset || tl.Restarts < 2 || (!killed && run < time.Minute) {
		return nil
	}
	rank := 40
	if exit != nil && exit.Killer == KillerOutside {
		rank = 97 // seed 04: the kills are the point, the back-off is the symptom users see
	}
	return []Finding{{ID: FindingBackoffNeverResets, Category: CategoryEnvironment, Severity: SeverityWarning,
		Verdict: fmt.Sprintf("The back-off will not reset: each run lasts about %s, and the kubelet resets a container's back-off only after it has run %s (a fixed figure, whatever the cap). So every restart waits the full %s.",
			humanDuration(run), humanDuration(BackoffResetWindow), humanDuration(time.Duration(tl.DelaySeconds*float64(time.Second)))),
		Evidence: []Evidence{{Kind: "status", Source: "status.lastState.terminated", Quote: fmt.Sprintf("ran %s; restartCount=%d", humanDuration(run), tl.Restarts)}},
		Fix: Fix{Text: fmt.Sprintf("Stop whatever kills it every few minutes (a chaos test: kill it less often than every %s), or make it survive past %s; on the node, a lower crashLoopBackOff.maxContainerRestartPeriod shortens each wait but does not change the reset window.",
			humanDuration(BackoffResetWindow), humanDuration(BackoffResetWindow))},
		rank: rank}}
}

// rolloutFinding compares the failing pod's ReplicaSet with an older one of
// the same Deployment that is still healthy.
func rolloutFinding(pod *corev1.Pod, container string, d *appsv1.Deployment, rss []appsv1.ReplicaSet, crashing bool) (Finding, bool) {
	if d == nil || !crashing || len(rss) < 2 {
		return Finding{}, false
	}
	var mine *appsv1.ReplicaSet
	for i := range rss {
		for _, ref := range pod.OwnerReferences {
			if ref.UID == rss[i].UID {
				mine = &rss[i]
			}
		}
	}
	if mine == nil {
		return Finding{}, false
	}
	var prev *appsv1.ReplicaSet
	for i := range rss {
		rs := &rss[i]
		if rs.UID == mine.UID || rs.Status.ReadyReplicas == 0 || revision(rs) >= revision(mine) {
			continue
		}
		if prev == nil || revision(rs) > revision(prev) {
			prev = rs
		}
	}
	if prev == nil {
		return Finding{}, false
	}
	changes := TemplateChanges(&prev.Spec.Template.Spec, &mine.Spec.Template.Spec)
	ev := []Evidence{{Kind: "spec", Source: "ReplicaSet/" + prev.Name, Quote: fmt.Sprintf("revision %d, %d/%d ready", revision(prev), prev.Status.ReadyReplicas, derefInt32(prev.Spec.Replicas))},
		{Kind: "spec", Source: "ReplicaSet/" + mine.Name, Quote: fmt.Sprintf("revision %d, crashing", revision(mine))}}
	for _, ch := range changes {
		ev = append(ev, Evidence{Kind: "spec", Source: "pod template " + ch.Field, Quote: ch.From + " -> " + ch.To})
	}
	return Finding{ID: FindingRolloutRegression, Category: CategoryConfiguration, Severity: SeverityError,
		Verdict:  fmt.Sprintf("The rollout broke it: revision %d crashes while revision %d is healthy. Changed: %s.", revision(mine), revision(prev), changeList(changes)),
		Evidence: ev,
		Fix:      Fix{Text: fmt.Sprintf("Roll back (kubectl -n %s rollout undo deployment/%s) and fix what changed before rolling out again.", d.Namespace, d.Name)},
		rank:     97}, true
}

func derefInt32(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func revision(rs *appsv1.ReplicaSet) int {
	var n int
	fmt.Sscanf(rs.Annotations["deployment.kubernetes.io/revision"], "%d", &n)
	return n
}

// TemplateChange is one difference between two pod templates.
type TemplateChange struct {
	Field, From, To string
}

// TemplateChanges lists what changed between two pod specs in the fields
// that break containers: image, command, args, env, probes, resources.
func TemplateChanges(old, cur *corev1.PodSpec) []TemplateChange {
	var out []TemplateChange
	for i := range cur.Containers {
		c := &cur.Containers[i]
		var o *corev1.Container
		for j := range old.Containers {
			if old.Containers[j].Name == c.Name {
				o = &old.Containers[j]
			}
		}
		if o == nil {
			out = append(out, TemplateChange{Field: "containers", From: "", To: "added " + c.Name})
			continue
		}
		add := func(field, from, to string) {
			if from != to {
				out = append(out, TemplateChange{Field: c.Name + "." + field, From: from, To: to})
			}
		}
		add("image", o.Image, c.Image)
		add("command", strings.Join(o.Command, " "), strings.Join(c.Command, " "))
		add("args", strings.Join(o.Args, " "), strings.Join(c.Args, " "))
		add("env", envString(o.Env), envString(c.Env))
		add("livenessProbe", mustYAMLInline(o.LivenessProbe), mustYAMLInline(c.LivenessProbe))
		add("readinessProbe", mustYAMLInline(o.ReadinessProbe), mustYAMLInline(c.ReadinessProbe))
		add("resources", mustYAMLInline(o.Resources), mustYAMLInline(c.Resources))
	}
	return out
}

func envString(env []corev1.EnvVar) string {
	var parts []string
	for _, e := range env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			parts = append(parts, e.Name+"=<secret "+e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key+">")
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			parts = append(parts, e.Name+"=<configmap "+e.ValueFrom.ConfigMapKeyRef.Name+"/"+e.ValueFrom.ConfigMapKeyRef.Key+">")
		default:
			parts = append(parts, e.Name+"="+e.Value)
		}
	}
	return strings.Join(parts, " ")
}

func mustYAMLInline(v any) string {
	return strings.TrimSpace(strings.ReplaceAll(mustYAML(v), "\n", " "))
}

func changeList(ch []TemplateChange) string {
	if len(ch) == 0 {
		return "nothing in image, command, env, probes or resources (look at volumes and config objects)"
	}
	var parts []string
	for _, c := range ch {
		parts = append(parts, fmt.Sprintf("%s %q -> %q", c.Field, c.From, c.To))
	}
	return strings.Join(parts, "; ")
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
