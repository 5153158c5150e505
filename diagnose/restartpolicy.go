package diagnose

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// A container's restart policy, as the kubelet of today applies it: a
// container may set its own restartPolicy and restartPolicyRules
// (ContainerRestartRules, on by default since 1.35), which override the
// pod's; a native sidecar (an init container with restartPolicy Always)
// always restarts. The rules are checked in order and the first that
// matches the exit decides; when none matches, the container's policy
// does. Every "will it restart" question of the rulebook asks restartOn.

// restartDecision is what the kubelet does with one exit of a container.
type restartDecision struct {
	restart bool
	// rule is the restartPolicyRules entry that decided, nil when the
	// policy did; index is its place (0-based).
	rule  *corev1.ContainerRestartRule
	index int
	// policy is the container's effective restart policy.
	policy corev1.RestartPolicy
	// wholePod: the rule restarts every container of the pod in place
	// (RestartAllContainers).
	wholePod bool
}

// containerPolicy is the container's effective restart policy: its own,
// else the pod's (Always when unset); an init step (an init container that
// is not a sidecar) is retried only when it fails, so Always is OnFailure
// for it.
func containerPolicy(pod *corev1.Pod, c *corev1.Container) corev1.RestartPolicy {
	if c != nil && c.RestartPolicy != nil && *c.RestartPolicy != "" {
		return corev1.RestartPolicy(*c.RestartPolicy)
	}
	p := restartPolicy(pod)
	if c != nil && p == corev1.RestartPolicyAlways && IsInitStep(pod, c.Name) {
		return corev1.RestartPolicyOnFailure
	}
	return p
}

// restartOn decides what the kubelet does when container c exits with code.
func restartOn(pod *corev1.Pod, c *corev1.Container, code int32) restartDecision {
	d := restartDecision{policy: containerPolicy(pod, c), index: -1}
	if c != nil {
		for i := range c.RestartPolicyRules {
			r := &c.RestartPolicyRules[i]
			if !ruleMatches(r, code) {
				continue
			}
			d.rule, d.index = r, i
			d.restart = r.Action == corev1.ContainerRestartRuleActionRestart || r.Action == corev1.ContainerRestartRuleActionRestartAllContainers
			d.wholePod = r.Action == corev1.ContainerRestartRuleActionRestartAllContainers
			return d
		}
	}
	switch d.policy {
	case corev1.RestartPolicyNever:
		d.restart = false
	case corev1.RestartPolicyOnFailure:
		d.restart = code != 0
	default:
		d.restart = true
	}
	return d
}

func ruleMatches(r *corev1.ContainerRestartRule, code int32) bool {
	if r.ExitCodes == nil {
		return false
	}
	in := slices.Contains(r.ExitCodes.Values, code)
	switch r.ExitCodes.Operator {
	case corev1.ContainerRestartRuleOnExitCodesOpIn:
		return in
	case corev1.ContainerRestartRuleOnExitCodesOpNotIn:
		return !in
	}
	return false
}

// ruleText is a rule in a few words: "rule 1 (Restart on exit code In [42])".
func ruleText(r *corev1.ContainerRestartRule, index int) string {
	cond := "any exit"
	if r.ExitCodes != nil {
		vals := make([]string, len(r.ExitCodes.Values))
		for i, v := range r.ExitCodes.Values {
			vals[i] = fmt.Sprint(v)
		}
		cond = fmt.Sprintf("exit code %s [%s]", r.ExitCodes.Operator, strings.Join(vals, ", "))
	}
	return fmt.Sprintf("restartPolicyRules[%d] (%s on %s)", index, r.Action, cond)
}

// restartRuleFinding says how the container's own restart rules decided
// its last exit and what another exit would do; ok false when the
// container has no rules and its policy is the pod's.
func restartRuleFinding(pod *corev1.Pod, c *corev1.Container, exit *ExitExplanation) (Finding, bool) {
	if exit == nil || c == nil || (len(c.RestartPolicyRules) == 0 && (c.RestartPolicy == nil || isSidecar(pod.Spec.InitContainers, c.Name))) {
		return Finding{}, false
	}
	d := restartOn(pod, c, exit.Code)
	var b strings.Builder
	switch rule, i := wholePodRule(c); {
	case exit.Reason == reasonRestartingAll && rule == nil:
		return Finding{}, false // removed around another container: its rules did nothing
	case exit.Reason == reasonRestartingAll:
		d.rule, d.index, d.restart, d.wholePod = rule, i, true, true
		fmt.Fprintf(&b, "%s restarted every container of the pod in place (same pod, same UID); the exit that fired it is no longer in the status.", ruleText(rule, i))
	case d.rule != nil && d.wholePod:
		fmt.Fprintf(&b, "Exit %d matched %s: the kubelet restarts every container of the pod in place (same pod, same UID).", exit.Code, ruleText(d.rule, d.index))
	case d.rule != nil && d.restart:
		fmt.Fprintf(&b, "Exit %d matched %s: the kubelet restarted the container in place although its restartPolicy is %s.", exit.Code, ruleText(d.rule, d.index), d.policy)
	case d.restart:
		fmt.Fprintf(&b, "Exit %d matched no restart rule; the container's restartPolicy %s restarts it.", exit.Code, d.policy)
	default:
		fmt.Fprintf(&b, "Exit %d matched no restart rule and the container's restartPolicy is %s: it is not restarted, whatever the back-off.", exit.Code, d.policy)
	}
	// What another exit would do: the codes the rules name, and the rest
	// (after a whole-pod restart, the codes of the rule that fired are the
	// exit's own).
	var other []string
	seen := map[int32]bool{exit.Code: true}
	if exit.Reason == reasonRestartingAll && d.rule.ExitCodes != nil && d.rule.ExitCodes.Operator == corev1.ContainerRestartRuleOnExitCodesOpIn {
		for _, v := range d.rule.ExitCodes.Values {
			seen[v] = true
		}
	}
	for _, r := range c.RestartPolicyRules {
		if r.ExitCodes == nil {
			continue
		}
		for _, v := range r.ExitCodes.Values {
			if !seen[v] {
				seen[v] = true
				other = append(other, fmt.Sprintf("exit %d %s", v, verb(restartOn(pod, c, v))))
			}
		}
	}
	probe := int32(1)
	for seen[probe] {
		probe++
	}
	other = append(other, fmt.Sprintf("another code (e.g. %d) %s", probe, verb(restartOn(pod, c, probe))))
	b.WriteString(" Otherwise: " + strings.Join(other, "; ") + ".")
	sev := SeverityInfo
	if !d.restart {
		sev = SeverityWarning
	}
	ev := []Evidence{{Kind: "spec", Source: "spec.containers{" + c.Name + "}.restartPolicy", Quote: string(d.policy)}}
	if d.rule != nil {
		ev = append(ev, Evidence{Kind: "spec", Source: fmt.Sprintf("spec.containers{%s}.restartPolicyRules[%d]", c.Name, d.index), Quote: ruleText(d.rule, d.index)})
	}
	return Finding{ID: FindingRestartRule, Category: CategoryConfiguration, Severity: sev, Verdict: b.String(), Evidence: ev,
		Fix: Fix{Text: "The restart rules decide which exits are retried in place; an exit the rules do not restart ends the container (and, under restartPolicy Never, the pod)."}}, true
}

func verb(d restartDecision) string {
	switch {
	case d.wholePod:
		return "restarts the whole pod in place"
	case d.restart:
		return "restarts the container"
	case d.policy == corev1.RestartPolicyNever || d.policy == corev1.RestartPolicyOnFailure:
		return "ends it for good"
	}
	return "ends it"
}
