package diagnose

// Findings for containers that cannot start: config references, image
// pulls, mounts, runtime errors.

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var (
	configKeyRE   = regexp.MustCompile(`couldn't find key (\S+) in (ConfigMap|Secret) ([\w.-]+)/([\w.-]+)`)
	configObjRE   = regexp.MustCompile(`(configmap|secret) "([\w.-]+)" not found`)
	pvcRE         = regexp.MustCompile(`persistentvolumeclaim "([\w.-]+)" not found`)
	mountVolumeRE = regexp.MustCompile(`for volume "([\w.-]+)"`)
)

// waitingFindings explain containers that cannot start: config refs, image
// pulls, mounts, runtime errors.
func waitingFindings(pod *corev1.Pod, c *corev1.Container, cs corev1.ContainerStatus, events []corev1.Event) []Finding {
	w := cs.State.Waiting
	if w == nil {
		return nil
	}
	var out []Finding
	src := "status.containerStatuses{" + c.Name + "}.state.waiting"
	switch w.Reason {
	case "CreateContainerConfigError", "CreateContainerError":
		fix := "Create the missing object or key, or fix the reference in the pod template."
		if m := configKeyRE.FindStringSubmatch(w.Message); m != nil {
			fix = fmt.Sprintf("Add key %s to %s %s/%s, or fix the key name in the env reference.", m[1], m[2], m[3], m[4])
		} else if m := configObjRE.FindStringSubmatch(w.Message); m != nil {
			fix = fmt.Sprintf("Create %s %q in namespace %s (kubectl -n %s create %s %s ...), or fix the reference.", m[1], m[2], pod.Namespace, pod.Namespace, m[1], m[2])
		}
		out = append(out, Finding{ID: FindingConfigRefMissing, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  "The container cannot be created: " + w.Message + ".",
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: w.Reason + ": " + w.Message}},
			Fix:      Fix{Text: fix}})
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
		msg := w.Message
		for i := range events {
			if events[i].Reason == "Failed" && strings.Contains(events[i].Message, "ailed to pull image") && eventForContainer(&events[i], c.Name) {
				msg = events[i].Message
			}
		}
		why, fix := classifyPull(msg)
		out = append(out, Finding{ID: FindingImagePullFailed, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  fmt.Sprintf("The image %s cannot be pulled: %s.", c.Image, why),
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: w.Reason}, {Kind: "event", Source: "event Failed", Quote: firstLine(msg)}},
			Fix:      Fix{Text: fix}})
	case "RunContainerError", "StartError":
		id, verdict := FindingCommandNotFound, "The container's command does not exist in the image"
		if strings.Contains(w.Message, "permission denied") {
			id, verdict = FindingNotExecutable, "The container's command is not executable"
		}
		out = append(out, Finding{ID: id, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  verdict + ": " + runcDetail(w.Message) + ".",
			Evidence: []Evidence{{Kind: "status", Source: src, Quote: firstLine(w.Message)}},
			Fix:      Fix{Text: "Fix command/args in the pod template or the image's entrypoint (path, execute bit, architecture)."}})
	case "ContainerCreating", "PodInitializing":
		for i := range events {
			e := &events[i]
			if e.Reason != "FailedMount" {
				continue
			}
			fix := "Create the missing volume source or fix the volume definition."
			if m := configObjRE.FindStringSubmatch(e.Message); m != nil {
				fix = fmt.Sprintf("Create %s %q in namespace %s, or mark the volume optional.", m[1], m[2], pod.Namespace)
			} else if m := pvcRE.FindStringSubmatch(e.Message); m != nil {
				fix = fmt.Sprintf("Create PersistentVolumeClaim %q in namespace %s.", m[1], pod.Namespace)
			}
			vol := ""
			if m := mountVolumeRE.FindStringSubmatch(e.Message); m != nil {
				vol = " " + m[1]
			}
			out = append(out, Finding{ID: FindingMountFailed, Category: CategoryConfiguration, Severity: SeverityError,
				Verdict:  fmt.Sprintf("Volume%s cannot be mounted, so the pod stays in ContainerCreating: %s.", vol, firstLine(e.Message)),
				Evidence: []Evidence{{Kind: "event", Source: "event FailedMount", Quote: firstLine(e.Message)}},
				Fix:      Fix{Text: fix}})
			break
		}
	}
	return out
}

func classifyPull(msg string) (why, fix string) {
	switch {
	case strings.Contains(msg, "not found") || strings.Contains(msg, "manifest unknown"):
		return "the image or tag does not exist", "Fix the image name or tag, or push the image."
	case strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication required") || strings.Contains(msg, "denied"):
		return "the registry refused the credentials", "Add or fix imagePullSecrets for this registry."
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "dial tcp"):
		return "the registry is unreachable from the node", "Check the registry address and the node's network path to it (DNS, firewall, proxy)."
	case strings.Contains(msg, "Never"):
		return "imagePullPolicy is Never and the image is not on the node", "Load the image onto the node or change imagePullPolicy."
	}
	return "see the event", "Check the image reference, registry credentials and network."
}
