package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The fleet picture needs more than one cluster. The two beside the demo
// are control-plane-only instances (etcd and an apiserver, as the fleet
// tests use): no kubelet runs their pods, so each gets a few crashing pods
// written to its API, statuses and all, the way the scale benchmark writes
// its pods. The picture's caption says so.

// fleetPod is one crashing pod written to a control-plane-only cluster.
type fleetPod struct {
	namespace, deployment, container string
	reason                           string // of the last termination
	exit                             int32
	restarts                         int32
}

var fleetPods = map[int][]fleetPod{
	0: {{"shop", "checkout", "app", "OOMKilled", 137, 14}, {"shop", "cart", "app", "Error", 1, 6}},
	1: {{"search", "indexer", "indexer", "Error", 2, 31}, {"ingest", "kafka-bridge", "bridge", "Error", 1, 9}},
}

// seedFleet writes each extra cluster's crashing pods (the i-th kubeconfig
// gets fleetPods[i]); pods already there stay.
func seedFleet(kubeconfigs []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, path := range kubeconfigs {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return err
		}
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		for _, fp := range fleetPods[i%len(fleetPods)] {
			if err := writeFleetPod(ctx, c, fp); err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
		}
	}
	return nil
}

func writeFleetPod(ctx context.Context, c kubernetes.Interface, fp fleetPod) error {
	_, _ = c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fp.namespace}}, metav1.CreateOptions{})
	yes := true
	hash := "6c9d7f5b8"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fp.deployment + "-" + hash + "-x7k2p", Namespace: fp.namespace,
			Labels:          map[string]string{"app": fp.deployment, "pod-template-hash": hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fp.deployment + "-" + hash, UID: "00000000-0000-0000-0000-0000000000aa", Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: fp.container, Image: "registry.example.internal/" + fp.deployment + ":v2"}}},
	}
	created, err := c.CoreV1().Pods(fp.namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return err
	}
	end := time.Now().Add(-40 * time.Second)
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: fp.container, RestartCount: fp.restarts, Image: pod.Spec.Containers[0].Image,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off 5m0s restarting failed container=%s pod=%s_%s(%s)", fp.container, created.Name, fp.namespace, created.UID)}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: fp.exit, Reason: fp.reason,
			StartedAt: metav1.NewTime(end.Add(-2 * time.Minute)), FinishedAt: metav1.NewTime(end)}},
	}}}
	_, err = c.CoreV1().Pods(fp.namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	return err
}

// extraKubeconfigs is the fleet list without its first entry (the demo
// cluster, which runs real pods).
func extraKubeconfigs(list string) []string {
	parts := strings.Split(list, ":")
	if len(parts) < 2 {
		return nil
	}
	return parts[1:]
}
