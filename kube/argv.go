package kube

import (
	"errors"
	"os/exec"
)

// ErrNoKubectl: the jump keys need kubectl on PATH.
var ErrNoKubectl = errors.New("kubectl not found on PATH: the exec, debug and describe jumps need it (everything else works without it)")

// KubectlArgs carries the cluster flags every jump forwards to kubectl.
type KubectlArgs struct {
	Kubeconfig, Context, As string
}

// FindKubectl returns kubectl's path; a kubectl found relative to the
// current directory (exec.ErrDot) is refused.
func FindKubectl() (string, error) {
	p, err := exec.LookPath("kubectl")
	if err != nil {
		return "", ErrNoKubectl
	}
	return p, nil
}

func (k KubectlArgs) base(namespace string) []string {
	var a []string
	if k.Kubeconfig != "" {
		a = append(a, "--kubeconfig", k.Kubeconfig)
	}
	if k.Context != "" {
		a = append(a, "--context", k.Context)
	}
	if k.As != "" {
		a = append(a, "--as", k.As)
	}
	return append(a, "-n", namespace)
}

// shellFallback runs bash when the image has it, else sh.
const shellFallback = "command -v bash >/dev/null && exec bash || exec sh"

// Exec opens an interactive shell in a running container.
func (k KubectlArgs) Exec(namespace, pod, container string) []string {
	return append(k.base(namespace), "exec", "-it", pod, "-c", container, "--", "sh", "-c", shellFallback)
}

// DebugEphemeral attaches an ephemeral busybox container that shares the
// crashed container's process namespace.
func (k KubectlArgs) DebugEphemeral(namespace, pod, container, image string) []string {
	return append(k.base(namespace), "debug", "-it", pod, "--image", image, "--target", container, "--", "sh")
}

// DebugCopy starts a copy of the pod whose container runs a shell instead
// of its crashing command, for when ephemeral containers are not possible.
func (k KubectlArgs) DebugCopy(namespace, pod, container string) []string {
	return append(k.base(namespace), "debug", "-it", pod, "--copy-to", pod+"-debug", "--container", container, "--", "sh")
}

// Logs follows a container's log.
func (k KubectlArgs) Logs(namespace, pod, container string) []string {
	return append(k.base(namespace), "logs", "-f", pod, "-c", container)
}

// Describe describes the pod.
func (k KubectlArgs) Describe(namespace, pod string) []string {
	return append(k.base(namespace), "describe", "pod", pod)
}
