package diagnose

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Whole-pod restarts (RestartAllContainersOnContainerExits, beta and on by
// default in 1.36): when a container's exit matches a rule with action
// RestartAllContainers, the kubelet kills and removes every container of
// the pod and starts them again in place: same pod, same UID, every
// restart count one up. What the API shows, as read on the project's 1.36
// cluster and in the kubelet (kubelet_pods.go, kuberuntime_manager.go):
//
//   - for about three seconds the container that fired the rule shows its
//     real exit (terminated, exit code, times);
//   - then every container, that one included, shows a placeholder last
//     state: reason RestartingAllContainers, exit 137, no times, message
//     "The container is removed because RestartAllContainers in place";
//   - the removed instances' logs are kept on the node but the API no
//     longer serves them (--previous: "previous terminated container ...
//     not found"); the kubelet applies no crash-loop back-off.
//
// So the exit and its log exist only in that moment: the capture records
// them then, and the rulebook names the container that fired the rule by
// its spec afterwards.

// ReasonWholePodRestart is the row's failure signature for a pod its own
// rule restarts as a whole. It is the same in the seconds the exit shows
// and after, and the exit code is left out of the group key (GroupKey), so
// the group does not flap between the two.
const ReasonWholePodRestart = "RestartAllContainers"

// StateRestarting is the state of a container whose exit just fired a
// RestartAllContainers rule: the kubelet restarts the pod within seconds.
const StateRestarting = "Restarting"

// IsWholePodPlaceholder: the termination is the placeholder the kubelet
// leaves on every container of a pod it restarted as a whole, not an exit.
func IsWholePodPlaceholder(t *corev1.ContainerStateTerminated) bool {
	return t != nil && t.Reason == reasonRestartingAll
}

// wholePodRule is the container's first RestartAllContainers rule; nil
// when it has none.
func wholePodRule(c *corev1.Container) (*corev1.ContainerRestartRule, int) {
	if c == nil {
		return nil, -1
	}
	for i := range c.RestartPolicyRules {
		if c.RestartPolicyRules[i].Action == corev1.ContainerRestartRuleActionRestartAllContainers {
			return &c.RestartPolicyRules[i], i
		}
	}
	return nil, -1
}

// judgeWholePod judges a container of a pod that restarts as a whole; ok
// false when the container's state is not part of one.
// score is judge's restart score of the container.
func judgeWholePod(pod *corev1.Pod, cs *corev1.ContainerStatus, last *corev1.ContainerStateTerminated, ended bool, now time.Time, score int, j *judgement) bool {
	c := containerSpec(pod, cs.Name)
	row := &j.row
	switch t := cs.State.Terminated; {
	case t != nil && !ended && restartOn(pod, c, t.ExitCode).wholePod:
		// The moment the exit shows: the kubelet restarts the pod next.
		row.State, row.Reason = StateRestarting, ReasonWholePodRestart
		j.failing, j.score = true, score+scoreCrashing
		return true
	case !IsWholePodPlaceholder(last):
		return false
	}
	// The placeholder: every container shows it. Only the container whose
	// rule restarts the pod is the failure; the others were removed around
	// it.
	row.ExitCode, row.Meaning, row.Signal, row.Message = -1, "", "", ""
	row.LastStart, row.LastFinish = time.Time{}, time.Time{}
	row.State = quietState(cs, "")
	if rule, _ := wholePodRule(c); rule == nil || cs.RestartCount == 0 {
		return true
	}
	row.Reason = ReasonWholePodRestart
	switch {
	case cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero():
		// Running again since the restart: failing for the same window as
		// a container restarted alone.
		until := cs.State.Running.StartedAt.Add(recentRestartWindow)
		if now.IsZero() || !now.Before(until) {
			return true
		}
		row.State, row.Running, row.LastStart = StateRestarted, true, cs.State.Running.StartedAt.Time
		j.failing, j.score, j.until = true, score+scoreRestarted, until
	case cs.State.Waiting != nil:
		row.State = StateRestarting
		j.failing, j.score = true, score+scoreCrashing
	}
	return true
}

// wholePodExplanation explains the placeholder a whole-pod restart leaves.
func wholePodExplanation(pod *corev1.Pod, c *corev1.Container) string {
	rule, i := wholePodRule(c)
	if rule == nil {
		return "Not a crash of this container: the kubelet stopped and removed it because " + wholePodCause(pod) +
			" matched a RestartAllContainers rule, which restarts every container of the pod in place (same pod, same UID; exit 137 is the kubelet's placeholder)."
	}
	return fmt.Sprintf("The pod restarted as a whole: this container's %s fired, and the kubelet removed every container and started them again in place (same pod, same UID). "+
		"The status keeps only the kubelet's placeholder (RestartingAllContainers, exit 137), not the exit itself, and the API no longer serves the removed instance's log: "+
		"the crash ledger has both when crashlens or the in-cluster recorder captured the seconds the exit showed.", ruleText(rule, i))
}

// wholePodCause names the exit that restarted the pod: the container whose
// last exit matched a RestartAllContainers rule ("container loader's exit
// 3") while the status still shows it, else the container whose spec has
// such a rule.
func wholePodCause(pod *corev1.Pod) string {
	byRule := ""
	for _, specs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range specs {
			c := &specs[i]
			if rule, _ := wholePodRule(c); rule == nil {
				continue // only a container with such a rule can restart the pod
			}
			cs, _ := StatusOf(pod, c.Name)
			if t := lastTermination(cs); t != nil && !IsWholePodPlaceholder(t) && restartOn(pod, c, t.ExitCode).wholePod {
				return fmt.Sprintf("container %s's exit %d", c.Name, t.ExitCode)
			}
			if byRule == "" {
				byRule = "an exit of container " + c.Name
			}
		}
	}
	if byRule != "" {
		return byRule
	}
	return "another container's exit"
}

// wholePodWords is the CAUSE column's words for a pod its container's rule
// restarts as a whole, the row's and the detail's alike; code is the exit
// that fired the rule, -1 when only the kubelet's placeholder is left.
func wholePodWords(code int32) string {
	if code >= 0 {
		return fmt.Sprintf("exit %d restarts the whole pod", code)
	}
	return "its rule restarts the whole pod"
}
