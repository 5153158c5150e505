package kube

// What a pod belongs to and runs on: its owner chain through the API, and
// the node's back-off cap.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// OwnerChain resolves the pod's owners through the API.
func OwnerChain(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) (crash.Owners, error) {
	var o crash.Owners
	ref := metav1.GetControllerOf(pod)
	for depth := 0; ref != nil && depth < 4; depth++ {
		o.Chain = append(o.Chain, ref.Kind+"/"+ref.Name)
		var next *metav1.OwnerReference
		switch ref.Kind {
		case "ReplicaSet":
			rs, err := c.AppsV1().ReplicaSets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			next = metav1.GetControllerOf(rs)
		case "Deployment":
			d, err := c.AppsV1().Deployments(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			o.Deployment = d
			all, err := c.AppsV1().ReplicaSets(pod.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return o, err
			}
			for _, rs := range all.Items {
				if c := metav1.GetControllerOf(&rs); c != nil && c.UID == d.UID {
					o.ReplicaSets = append(o.ReplicaSets, rs)
				}
			}
		case "Job":
			j, err := c.BatchV1().Jobs(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			o.Job = j
			next = metav1.GetControllerOf(j)
		}
		ref = next
	}
	return o, nil
}

// BackoffCap reads the node's crashLoopBackOff.maxContainerRestartPeriod
// through nodes/proxy/configz; zero (the kubelet default) when it is not
// set or the user may not read it.
func BackoffCap(ctx context.Context, c kubernetes.Interface, node string) time.Duration {
	d, _ := backoffCap(ctx, c, node)
	return d
}

// backoffCap is BackoffCap with the request's error, so a Memo can tell a
// lasting answer (forbidden) from a passing one (a timeout).
func backoffCap(ctx context.Context, c kubernetes.Interface, node string) (time.Duration, error) {
	if node == "" {
		return 0, nil
	}
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "configz").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	var cfg struct {
		KubeletConfig struct {
			CrashLoopBackOff struct {
				MaxContainerRestartPeriod string `json:"maxContainerRestartPeriod"`
			} `json:"crashLoopBackOff"`
		} `json:"kubeletconfig"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return 0, nil
	}
	d, err := time.ParseDuration(cfg.KubeletConfig.CrashLoopBackOff.MaxContainerRestartPeriod)
	if err != nil {
		return 0, nil // the kubelet's default ceiling applies
	}
	return d, nil
}
