package crash

import (
	"time"

	"github.com/crashlens/crashlens/diagnose"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Incident is everything the detail screen and the incident report show of
// one pod. Each part carries its own error, so one forbidden or missing
// part never hides the others.
type Incident struct {
	// Cluster is the kubeconfig context the pod was gathered from (set by
	// the caller, which knows it), for reports.
	Cluster        string
	Pod            *corev1.Pod
	Container      string
	Owners         Owners
	OwnersErr      error
	Events         []corev1.Event
	EventsErr      error
	PreviousLog    string
	PreviousLogErr error
	CurrentLog     string
	CurrentLogErr  error
	BackoffCap     time.Duration
	Usage          map[string]string // container -> "cpu 12m, memory 40Mi", from metrics.k8s.io
	UsageErr       error
}

// Input is what Diagnose takes from this incident: the TUI and `explain`
// diagnose the same way.
func (inc Incident) Input(tmpl *diagnose.Template, now time.Time) diagnose.Input {
	in := diagnose.Input{Pod: inc.Pod, Container: inc.Container, Events: inc.Events, PreviousLog: inc.PreviousLog,
		OwnerChain: inc.Owners.Chain, Deployment: inc.Owners.Deployment, ReplicaSets: inc.Owners.ReplicaSets,
		Job:        inc.Owners.Job,
		BackoffCap: inc.BackoffCap, Template: tmpl, Now: now}
	if inc.PreviousLogErr != nil {
		in.PreviousLogErr = inc.PreviousLogErr.Error()
	}
	return in
}

// Containers lists a pod's init containers then its app containers, in a
// new slice (appending to the spec's own would write into it).
func Containers(p *corev1.Pod) []corev1.Container {
	out := make([]corev1.Container, 0, len(p.Spec.InitContainers)+len(p.Spec.Containers))
	out = append(out, p.Spec.InitContainers...)
	return append(out, p.Spec.Containers...)
}

// Owners is a pod's owner chain and, for a Deployment, its ReplicaSets.
type Owners struct {
	Chain       []string // nearest first: ReplicaSet/x, Deployment/y
	Deployment  *appsv1.Deployment
	ReplicaSets []appsv1.ReplicaSet
	Job         *batchv1.Job // the owning Job, when the pod is a Job's attempt
}
