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

// allContainers lists a pod's init containers then its containers, in a
// new slice (appending to the spec's own would write into it).
func allContainers(p *corev1.Pod) []corev1.Container {
	out := make([]corev1.Container, 0, len(p.Spec.InitContainers)+len(p.Spec.Containers))
	out = append(out, p.Spec.InitContainers...)
	return append(out, p.Spec.Containers...)
}
