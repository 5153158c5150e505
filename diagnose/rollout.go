package diagnose

// The rollout comparison: a crashing ReplicaSet against the newest older
// one of its Deployment that is healthy, and what changed between them.

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

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
	cause := false
	for _, ch := range changes {
		cause = cause || strings.HasPrefix(ch.Field, container+".")
	}
	return Finding{ID: FindingRolloutRegression, Category: CategoryConfiguration, Severity: SeverityError, cause: cause,
		Verdict:  fmt.Sprintf("The rollout broke it: revision %d crashes while revision %d is healthy. Changed: %s.", revision(mine), revision(prev), changeList(changes)),
		Evidence: ev,
		Fix:      Fix{Text: fmt.Sprintf("Roll back (kubectl -n %s rollout undo deployment/%s) and fix what changed before rolling out again.", d.Namespace, d.Name)}}, true
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
