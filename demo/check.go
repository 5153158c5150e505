package demo

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Observation is what the cluster shows of one scenario's pods.
type Observation struct {
	Pods   []corev1.Pod
	Events []corev1.Event    // events of those pods
	Logs   map[string]string // pod name -> previous log of the failing container (else its current log)
}

// Check returns what the observation still lacks; empty means the scenario
// reached its declared state.
func (e Expect) Check(o Observation) []string {
	if len(o.Pods) == 0 {
		return []string{"no pods yet"}
	}
	if e.Healthy {
		var missing []string
		for _, p := range o.Pods {
			missing = append(missing, healthyProblems(p)...)
		}
		return missing
	}
	if e.Succeeded {
		for _, p := range o.Pods {
			if p.Status.Phase != corev1.PodSucceeded {
				return []string{fmt.Sprintf("pod %s is %s, want Succeeded", p.Name, p.Status.Phase)}
			}
		}
		return nil
	}
	var best []string
	for _, p := range o.Pods {
		missing := e.checkFailing(p, o)
		if len(missing) == 0 {
			best = nil
			break
		}
		if best == nil || len(missing) < len(best) {
			best = missing
		}
	}
	if best != nil {
		return best
	}
	if e.HealthyPods > 0 {
		healthy := 0
		for _, p := range o.Pods {
			if len(healthyProblems(p)) == 0 {
				healthy++
			}
		}
		if healthy < e.HealthyPods {
			return []string{fmt.Sprintf("%d healthy pods beside the failing one, want %d", healthy, e.HealthyPods)}
		}
	}
	return nil
}

func healthyProblems(p corev1.Pod) []string {
	var out []string
	if !podReady(p) {
		out = append(out, fmt.Sprintf("pod %s not Ready", p.Name))
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.RestartCount > 0 {
			out = append(out, fmt.Sprintf("pod %s container %s restarted %d times", p.Name, cs.Name, cs.RestartCount))
		}
	}
	return out
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (e Expect) checkFailing(p corev1.Pod, o Observation) []string {
	statuses := p.Status.ContainerStatuses
	if e.Init || !slices.ContainsFunc(statuses, func(cs corev1.ContainerStatus) bool { return cs.Name == e.Container }) {
		statuses = p.Status.InitContainerStatuses // an init step, or a native sidecar
	}
	i := slices.IndexFunc(statuses, func(cs corev1.ContainerStatus) bool { return cs.Name == e.Container })
	if i < 0 {
		return []string{fmt.Sprintf("pod %s: no status for container %s", p.Name, e.Container)}
	}
	cs := statuses[i]
	var missing []string
	if cs.RestartCount < e.MinRestarts {
		missing = append(missing, fmt.Sprintf("restarts %d < %d", cs.RestartCount, e.MinRestarts))
	}
	if len(e.Reasons) > 0 && !slices.ContainsFunc(containerReasons(cs), func(r string) bool { return slices.Contains(e.Reasons, r) }) {
		missing = append(missing, fmt.Sprintf("reasons %v, want one of %v", containerReasons(cs), e.Reasons))
	}
	last := lastTermination(cs)
	if e.ExitCode != nil || e.TerminatedReason != "" {
		switch {
		case last == nil:
			missing = append(missing, "no termination yet")
		case e.ExitCode != nil && last.ExitCode != *e.ExitCode:
			missing = append(missing, fmt.Sprintf("exit code %d, want %d", last.ExitCode, *e.ExitCode))
		case e.TerminatedReason != "" && last.Reason != e.TerminatedReason:
			missing = append(missing, fmt.Sprintf("termination reason %q, want %q", last.Reason, e.TerminatedReason))
		}
	}
	if e.NeverReady && podReady(p) {
		missing = append(missing, "pod is Ready")
	}
	for _, want := range e.Events {
		if !slices.ContainsFunc(o.Events, func(ev corev1.Event) bool {
			return ev.InvolvedObject.Name == p.Name && ev.Reason == want.Reason && strings.Contains(ev.Message, want.Message)
		}) {
			missing = append(missing, fmt.Sprintf("no %s event containing %q", want.Reason, want.Message))
		}
	}
	if e.LogLine != "" && !strings.Contains(o.Logs[p.Name], e.LogLine) {
		missing = append(missing, fmt.Sprintf("log lacks %q", e.LogLine))
	}
	return missing
}

// containerReasons lists every reason a container status carries now.
func containerReasons(cs corev1.ContainerStatus) []string {
	var r []string
	if w := cs.State.Waiting; w != nil {
		r = append(r, w.Reason)
	}
	if t := cs.State.Terminated; t != nil {
		r = append(r, t.Reason)
	}
	if t := cs.LastTerminationState.Terminated; t != nil {
		r = append(r, t.Reason)
	}
	return r
}

// lastTermination is the container's most recent termination: the current
// state when it is terminated (the kubelet shows that most of the time for
// fast crashers), else the last state.
func lastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}
