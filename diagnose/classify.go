package diagnose

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// This file is the rulebook: whether a container is failing, which
// container of a pod is the one to look at, what state to call it and what
// its last exit means. The list's rows (Classify) and the detail screen
// (Diagnose) both ask it, so they cannot disagree on any of these.

const (
	// recentRestartWindow: a running container that restarted this
	// recently still counts as failing.
	recentRestartWindow = 10 * time.Minute
	// stuckCreatingAfter: a container still ContainerCreating this long
	// after the pod was scheduled counts as failing (a missing ConfigMap
	// volume leaves it there forever, the reason only in a FailedMount
	// event, which the list never reads).
	stuckCreatingAfter = time.Minute
	// initStuckAfter: an init step (not a sidecar) still running this long
	// after it started keeps the pod from starting as surely as a crash
	// loop: one waiting for a dependency that never comes shows Init:0/1
	// with 0 restarts and never crashes. The bound is the kubelet's default
	// back-off ceiling: by then a crash-looping step would have been retried
	// at its slowest, so a step that blocks the pod longer is an incident.
	initStuckAfter = 5 * time.Minute
	// endedWindow: a container that ended in failure in a pod that has
	// ended (phase Failed: a Job's attempt, a bare pod, a restartPolicy
	// Never pod) counts as failing this long after it finished. Nothing
	// restarts it and the pod stays in the API until someone deletes it
	// (a Job keeps its failed pods, a CronJob its last failed Job), so
	// without a bound a Job that was retried and then succeeded would stay
	// in the list for good. A day keeps a nightly run's failure there for
	// the morning's look; the ledger keeps it after.
	endedWindow = 24 * time.Hour
)

// reasonRestartingAll is the kubelet's termination (and waiting) reason
// for a container it removed because another container's exit matched a
// RestartAllContainers rule (kubelet_pods.go, RestartingAllContainers):
// the container did not fail, the pod restarted around it.
const reasonRestartingAll = "RestartingAllContainers"

// StateInitStuck is the state of an init step that runs past initStuckAfter.
const StateInitStuck = "Init:Running"

// StateRestarted is the state of a container running again after a crash
// in the last recentRestartWindow (CrashPod.Running says the same).
const StateRestarted = "Restarted"

// waitingCrashReasons are waiting reasons that mean the container fails.
var waitingCrashReasons = map[string]bool{
	"CrashLoopBackOff": true, "ErrImagePull": true, "ImagePullBackOff": true, "CreateContainerConfigError": true,
	"CreateContainerError": true, "RunContainerError": true, "InvalidImageName": true, "StartError": true,
	"ErrImageNeverPull": true, "PreCreateHookError": true, "PostStartHookError": true,
}

// CrashPod is one failing pod as the list shows it: the container the
// rulebook blames, as a small value copied out of the API object (never a
// pointer into a cache).
type CrashPod struct {
	Namespace string
	Name      string
	UID       string
	Node      string
	// Owner is the workload, resolved through ReplicaSet and Job names:
	// "Deployment/api", "StatefulSet/db", "CronJob/report", "Pod/name".
	Owner     string
	Container string
	Init      bool   // an init container (not a native sidecar) fails
	State     string // what to show: CrashLoopBackOff, OOMKilled, ImagePullBackOff, Init:CrashLoopBackOff, Restarted (running again after a recent crash), ...
	// Reason is the failure's stable signature: it does not flap between the
	// kubelet's waiting and terminated states (CrashLoopBackOff <-> Error),
	// so crash groups stay put. OOMKilled, Error, Completed, StartError,
	// ImagePullBackOff, CreateContainerConfigError, ContainerCreating, ...
	Reason         string
	ExitCode       int32  // -1 when the container never terminated
	Signal         string // SIGKILL, SIGSEGV, ... when the exit code carries one
	Meaning        string // short meaning of the exit code
	Restarts       int32
	LastStart      time.Time
	LastFinish     time.Time
	BackoffMessage string
	NextRestart    time.Time // zero when unknown or running
	Running        bool      // running again after a recent restart
	Message        string    // waiting or termination message, first line
	// Cause is what the status alone proves, in a few words (the CAUSE
	// column until a captured crash says more; see cause.go).
	Cause   string
	Created time.Time
}

// GroupKey is what pods of one crash group share.
func (p CrashPod) GroupKey() string {
	code := "-"
	if p.ExitCode >= 0 && p.Reason != ReasonWholePodRestart {
		code = strconv.Itoa(int(p.ExitCode))
	}
	return p.Namespace + "\x00" + p.Owner + "\x00" + p.Container + "\x00" + p.Reason + "\x00" + code
}

// Verdict is the rulebook's answer for one pod at one moment.
type Verdict struct {
	// Pod is the row for the failing container; when the pod is not
	// failing yet but will be by the clock alone (stuck creating), the row
	// it will have then.
	Pod     CrashPod
	Failing bool
	// Recheck is when Failing flips by the clock alone, with no change to
	// the pod: a recent restart ages out, a container stuck creating
	// becomes failing. Zero when only a change to the pod can change the
	// verdict. A watcher schedules one re-check for it instead of
	// classifying the pod again and again.
	Recheck time.Time
}

// Classify judges every container of the pod (init containers first) and
// returns the one failing worst as the list's row.
func Classify(pod *corev1.Pod, now time.Time) Verdict {
	var best, pending judgement
	bestScore, found := -1, false
	var until time.Time // the last moment a time-limited failure lasts
	forever := false    // some failing container is not time-limited
	eachContainer(pod, func(cs *corev1.ContainerStatus, init bool) {
		j := judge(pod, cs, init, now)
		switch {
		case j.failing:
			if j.until.IsZero() {
				forever = true
			} else if j.until.After(until) {
				until = j.until
			}
			if j.score > bestScore {
				best, bestScore, found = j, j.score, true
			}
		case !j.from.IsZero() && (pending.from.IsZero() || j.from.Before(pending.from)):
			pending = j
		}
	})
	var v Verdict
	switch {
	case found:
		v = Verdict{Pod: best.row, Failing: true}
		if !forever {
			v.Recheck = until
		}
	case !pending.from.IsZero():
		v = Verdict{Pod: pending.row, Recheck: pending.from}
	default:
		return Verdict{}
	}
	v.Pod.Namespace, v.Pod.Name, v.Pod.UID, v.Pod.Node = pod.Namespace, pod.Name, string(pod.UID), pod.Spec.NodeName
	v.Pod.Owner = ResolveOwner(pod)
	v.Pod.Created = pod.CreationTimestamp.Time
	return v
}

// FailingContainer names the container the rulebook blames at now, else
// the first app container.
func FailingContainer(pod *corev1.Pod, now time.Time) string {
	if v := Classify(pod, now); v.Failing {
		return v.Pod.Container
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

// eachContainer visits the statuses of the pod's init containers, then its
// app containers, saying which are init steps. The one sidecar rule: an init
// container with restartPolicy Always (a native sidecar) runs beside the app
// and counts as a container, not an init step.
func eachContainer(pod *corev1.Pod, visit func(cs *corev1.ContainerStatus, init bool)) {
	for i := range pod.Status.InitContainerStatuses {
		cs := &pod.Status.InitContainerStatuses[i]
		visit(cs, !isSidecar(pod.Spec.InitContainers, cs.Name))
	}
	for i := range pod.Status.ContainerStatuses {
		visit(&pod.Status.ContainerStatuses[i], false)
	}
}

// containerSpec is the spec of the named container, app or init (names are
// unique across both), nil when the spec does not have it.
func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, specs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range specs {
			if specs[i].Name == name {
				return &specs[i]
			}
		}
	}
	return nil
}

// IsInitStep says whether the pod's named container is an init step: an
// init container that is not a native sidecar (restartPolicy Always).
func IsInitStep(pod *corev1.Pod, name string) bool {
	return slices.ContainsFunc(pod.Spec.InitContainers, func(c corev1.Container) bool { return c.Name == name }) &&
		!isSidecar(pod.Spec.InitContainers, name)
}

func isSidecar(specs []corev1.Container, name string) bool {
	for i := range specs {
		if specs[i].Name == name {
			return specs[i].RestartPolicy != nil && *specs[i].RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}

// judgement is the rulebook's view of one container.
type judgement struct {
	row     CrashPod // container fields only
	failing bool
	// score orders failing containers: the worst is the pod's row.
	score int
	// until: a failing container stops failing then by the clock alone;
	// from: a container that is not failing starts then.
	until, from time.Time
}

// Scores of the failing kinds, worst first; restarts (up to 1000) break ties.
const (
	scoreCrashing      = 3000 // waiting for a crash reason, or terminated and about to restart
	scoreInitFailed    = 2000 // an init step that exited non-zero
	scoreRestarted     = 1000 // running again after a recent crash
	scoreStuckCreating = 500  // ContainerCreating for longer than stuckCreatingAfter
)

// judge is the one "is it failing" rule, the one state rule and the one init
// rule (the Init: prefix), for one container.
func judge(pod *corev1.Pod, cs *corev1.ContainerStatus, init bool, now time.Time) judgement {
	prefix := ""
	if init {
		prefix = "Init:"
	}
	j := judgement{row: CrashPod{Container: cs.Name, Init: init, Restarts: cs.RestartCount, ExitCode: -1}}
	row := &j.row
	last := lastTermination(*cs)
	if last != nil {
		row.ExitCode, row.LastStart, row.LastFinish = last.ExitCode, last.StartedAt.Time, last.FinishedAt.Time
		row.Meaning, row.Signal = exitMeaning(last), signalOf(last.ExitCode)
		row.Reason = prefix + cmp.Or(last.Reason, "Error")
		row.Message = firstLine(last.Message)
	}
	score := int(min(cs.RestartCount, 1000))
	w, t := cs.State.Waiting, cs.State.Terminated
	ended := podEnded(pod)
	switch {
	case judgeWholePod(pod, cs, last, ended, now, score, &j):
		// A pod its own rule restarts as a whole (wholepod.go).
	case ended && endedByNode(pod):
		// The node ended the pod (an eviction, a shutdown): its containers'
		// exits are the kubelet's kills, not crashes.
		row.State = quietState(cs, prefix)
	case w != nil && waitingCrashReasons[w.Reason]:
		row.State = prefix + w.Reason
		if w.Message != "" {
			row.Message = firstLine(w.Message)
		}
		switch w.Reason {
		case "CrashLoopBackOff":
			row.BackoffMessage = w.Message
			if d, ok := parseBackoffMessage(w.Message); ok && !row.LastFinish.IsZero() {
				row.NextRestart = row.LastFinish.Add(d)
			}
			if row.Reason == "" {
				row.Reason = prefix + "Error"
			}
		case "ErrImagePull", "ImagePullBackOff":
			row.Reason = prefix + "ImagePullBackOff" // the two alternate; one group
		default:
			row.Reason = prefix + w.Reason
		}
		j.failing, j.score = true, score+scoreCrashing
	case t != nil && !ended && cs.RestartCount > 0 && restartOn(pod, containerSpec(pod, cs.Name), t.ExitCode).restart:
		// The kubelet shows this most of the time for a fast crasher: it is
		// backing off, whatever the terminated reason says.
		row.State = prefix + "CrashLoopBackOff"
		if row.Reason == prefix+"OOMKilled" {
			row.State = prefix + "OOMKilled"
		}
		j.failing, j.score = true, score+scoreCrashing
	case t != nil && t.ExitCode != 0 && (init || ended || cs.RestartCount > 0 || !restartOn(pod, containerSpec(pod, cs.Name), t.ExitCode).restart):
		// An init step that failed, or a container whose last exit its
		// policy or rules do not restart (a Job's attempt, a restartPolicy
		// Never pod): it has ended for good. In an ended pod it counts for
		// endedWindow.
		row.State = prefix + "Error"
		if ended {
			j.until = t.FinishedAt.Add(endedWindow)
			if !now.IsZero() && !now.Before(j.until) {
				row.State = quietState(cs, prefix)
				break
			}
		}
		j.failing, j.score = true, score+scoreInitFailed
	case cs.State.Running != nil && cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil && !now.IsZero() &&
		now.Before(cs.LastTerminationState.Terminated.FinishedAt.Add(recentRestartWindow)):
		row.State, row.Running = StateRestarted, true
		j.failing, j.score = true, score+scoreRestarted
		j.until = cs.LastTerminationState.Terminated.FinishedAt.Add(recentRestartWindow)
	case init && cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero():
		// An init step that runs on: failing once it has blocked the pod
		// for initStuckAfter.
		row.State, row.Reason = StateInitStuck, StateInitStuck
		row.LastStart = cs.State.Running.StartedAt.Time
		if stuckAt := cs.State.Running.StartedAt.Add(initStuckAfter); now.Before(stuckAt) {
			j.from = stuckAt
		} else {
			j.failing, j.score = true, score+scoreStuckCreating
		}
	case w != nil && w.Reason == "ContainerCreating":
		row.State, row.Reason = prefix+"ContainerCreating", prefix+"ContainerCreating"
		if stuckAt := scheduledAt(pod).Add(stuckCreatingAfter); now.Before(stuckAt) {
			j.from = stuckAt
		} else {
			j.failing, j.score = true, score+scoreStuckCreating
		}
	default:
		row.State = quietState(cs, prefix)
	}
	if j.failing || !j.from.IsZero() {
		termMessage := ""
		if last != nil {
			termMessage = firstLine(last.Message)
		}
		row.Cause = statusCause(*row, termMessage)
	}
	return j
}

// podEnded: the pod has ended (phase Failed or Succeeded), and an ended pod
// restarts nothing, whatever its containers' policies say.
func podEnded(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

// endedByNode: the pod failed as a whole by the node's decision (the
// kubelet's pod-level reason: Evicted, Shutdown, NodeShutdown, Terminated,
// OutOfcpu, UnexpectedAdmissionError, ...), not by its containers' exits.
// DeadlineExceeded (activeDeadlineSeconds) is the pod's own limit, so its
// exits count.
func endedByNode(pod *corev1.Pod) bool {
	return pod.Status.Reason != "" && pod.Status.Reason != "DeadlineExceeded"
}

// quietState names the state of a container that is not failing.
func quietState(cs *corev1.ContainerStatus, prefix string) string {
	switch {
	case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
		return prefix + cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return prefix + cmp.Or(cs.State.Terminated.Reason, "Error")
	case cs.State.Running != nil:
		return prefix + "Running"
	}
	return ""
}

func scheduledAt(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return pod.CreationTimestamp.Time
}

// containerJudgement is the rulebook's view of one named container, for
// Diagnose: of the init containers' statuses or the app containers'; a
// container without a status yet is judged on an empty one.
func containerJudgement(pod *corev1.Pod, name string, initList bool, now time.Time) (corev1.ContainerStatus, judgement) {
	list, init := pod.Status.ContainerStatuses, false
	if initList {
		list, init = pod.Status.InitContainerStatuses, !isSidecar(pod.Spec.InitContainers, name)
	}
	cs := corev1.ContainerStatus{Name: name}
	for i := range list {
		if list[i].Name == name {
			cs = list[i]
			break
		}
	}
	return cs, judge(pod, &cs, init, now)
}

var jobFromCronJob = regexp.MustCompile(`^(.+)-\d{8,}$`)

// ResolveOwner names the pod's workload without extra API calls: a
// ReplicaSet named <deployment>-<pod-template-hash> belongs to that
// Deployment, a Job named <cronjob>-<scheduled-minute> to that CronJob. The
// detail view resolves owners exactly through the API.
func ResolveOwner(pod *corev1.Pod) string {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		switch ref.Kind {
		case "ReplicaSet":
			if h := pod.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
				return "Deployment/" + strings.TrimSuffix(ref.Name, "-"+h)
			}
			return "ReplicaSet/" + ref.Name
		case "Job":
			if m := jobFromCronJob.FindStringSubmatch(ref.Name); m != nil {
				return "CronJob/" + m[1]
			}
			return "Job/" + ref.Name
		default:
			return ref.Kind + "/" + ref.Name
		}
	}
	return "Pod/" + pod.Name
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
