package kube

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
)

// StuckCreatingAfter: a container still ContainerCreating this long after the
// pod was scheduled counts as failing (a missing ConfigMap volume leaves it
// there forever, with the reason only in a FailedMount event).
const StuckCreatingAfter = time.Minute

// CrashPod is one crashing pod as the list shows it: a small value copied out
// of the API object, never a pointer into a cache.
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
	ExitCode       int32 // -1 when the container never terminated
	Signal         string
	Meaning        string // short meaning of the exit code
	Restarts       int32
	LastStart      time.Time
	LastFinish     time.Time
	BackoffMessage string
	NextRestart    time.Time // zero when unknown or running
	Running        bool      // running again after a recent restart
	Message        string    // waiting or termination message, first line
	Created        time.Time
}

// GroupKey is what pods of one crash group share.
func (p CrashPod) GroupKey() string {
	return p.Namespace + "\x00" + p.Owner + "\x00" + p.Container + "\x00" + p.Reason + "\x00" + itoa32(p.ExitCode)
}

// Classify returns the pod as a CrashPod when one of its containers (init
// containers first) is failing now.
func Classify(pod *corev1.Pod, now time.Time) (CrashPod, bool) {
	always := pod.Spec.RestartPolicy == "" || pod.Spec.RestartPolicy == corev1.RestartPolicyAlways
	best, found, bestScore := CrashPod{}, false, -1
	check := func(statuses []corev1.ContainerStatus, specs []corev1.Container, init bool) {
		for i := range statuses {
			cs := &statuses[i]
			isInit := init && !isSidecar(specs, cs.Name)
			cp, score, ok := classifyContainer(pod, cs, isInit, always, now)
			if ok && score > bestScore {
				best, found, bestScore = cp, true, score
			}
		}
	}
	check(pod.Status.InitContainerStatuses, pod.Spec.InitContainers, true)
	check(pod.Status.ContainerStatuses, nil, false)
	if !found {
		return CrashPod{}, false
	}
	best.Namespace, best.Name, best.UID, best.Node = pod.Namespace, pod.Name, string(pod.UID), pod.Spec.NodeName
	best.Owner = ResolveOwner(pod)
	best.Created = pod.CreationTimestamp.Time
	return best, true
}

func isSidecar(specs []corev1.Container, name string) bool {
	for i := range specs {
		if specs[i].Name == name {
			return specs[i].RestartPolicy != nil && *specs[i].RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}

func classifyContainer(pod *corev1.Pod, cs *corev1.ContainerStatus, isInit, always bool, now time.Time) (CrashPod, int, bool) {
	prefix := ""
	if isInit {
		prefix = "Init:"
	}
	cp := CrashPod{Container: cs.Name, Init: isInit, Restarts: cs.RestartCount, ExitCode: -1}
	last := diagnose.LastTermination(*cs)
	if last != nil {
		cp.ExitCode, cp.LastStart, cp.LastFinish = last.ExitCode, last.StartedAt.Time, last.FinishedAt.Time
		cp.Meaning = diagnose.ExitMeaning(last.ExitCode, last.Reason)
		if last.ExitCode > 128 && last.ExitCode < 160 {
			cp.Signal = cp.Meaning
		}
		cp.Reason = prefix + orDefault(last.Reason, "Error")
		cp.Message = firstLine(last.Message)
	}
	score := int(min(cs.RestartCount, 1000))
	switch {
	case cs.State.Waiting != nil && diagnose.IsCrashWaitingReason(cs.State.Waiting.Reason):
		w := cs.State.Waiting
		cp.State = prefix + w.Reason
		if w.Message != "" {
			cp.Message = firstLine(w.Message)
		}
		switch w.Reason {
		case "CrashLoopBackOff":
			cp.BackoffMessage = w.Message
			if d, ok := diagnose.ParseBackoffMessage(w.Message); ok && !cp.LastFinish.IsZero() {
				cp.NextRestart = cp.LastFinish.Add(d)
			}
			if cp.Reason == "" {
				cp.Reason = prefix + "Error"
			}
		case "ErrImagePull", "ImagePullBackOff":
			cp.Reason = prefix + "ImagePullBackOff" // the two alternate; one group
		default:
			cp.Reason = prefix + w.Reason
		}
		return cp, score + 3000, true
	case cs.State.Terminated != nil && cs.RestartCount > 0 && (cs.State.Terminated.ExitCode != 0 || always):
		// The kubelet shows this most of the time for a fast crasher.
		cp.State = prefix + "CrashLoopBackOff"
		if cp.Reason == prefix+"OOMKilled" {
			cp.State = prefix + "OOMKilled"
		}
		return cp, score + 3000, true
	case cs.State.Terminated != nil && isInit && cs.State.Terminated.ExitCode != 0:
		cp.State = prefix + "Error"
		return cp, score + 2000, true
	case cs.State.Running != nil && cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil &&
		now.Sub(cs.LastTerminationState.Terminated.FinishedAt.Time) < diagnose.RecentRestartWindow:
		cp.State, cp.Running = "Restarted", true
		return cp, score + 1000, true
	case cs.State.Waiting != nil && cs.State.Waiting.Reason == "ContainerCreating" && stuckSince(pod, now) > StuckCreatingAfter:
		cp.State, cp.Reason = prefix+"ContainerCreating", prefix+"ContainerCreating"
		return cp, score + 500, true
	}
	return CrashPod{}, 0, false
}

func stuckSince(pod *corev1.Pod, now time.Time) time.Duration {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
			return now.Sub(c.LastTransitionTime.Time)
		}
	}
	return now.Sub(pod.CreationTimestamp.Time)
}

var (
	jobFromCronJob = regexp.MustCompile(`^(.+)-\d{8,}$`)
)

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

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func itoa32(n int32) string {
	if n < 0 {
		return "-"
	}
	return strconv.Itoa(int(n))
}
