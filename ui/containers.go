package ui

import corev1 "k8s.io/api/core/v1"

// corev1Status is the little the jumps need to know of a container.
type corev1Status struct {
	name    string
	running bool
}

func toStatus(list []corev1.ContainerStatus) []corev1Status {
	out := make([]corev1Status, 0, len(list))
	for _, cs := range list {
		out = append(out, corev1Status{name: cs.Name, running: cs.State.Running != nil})
	}
	return out
}
