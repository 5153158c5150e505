package podwatch

// Pods as a busy cluster holds them, for the scale benchmark (written to
// the apiserver) and the decoder's benchmark and fuzz seeds.

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const scaleNS = "scale"

// realisticPod is about 6.5 KB as stored: labels, annotations, two
// containers with env, probes, resources, mounts, and a running status.
func realisticPod(i int) *corev1.Pod {
	yes := true
	app := fmt.Sprintf("svc-%04d", i/50)
	env := make([]corev1.EnvVar, 0, 12)
	for j := 0; j < 12; j++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("SETTING_%02d", j), Value: strings.Repeat("v", 40)})
	}
	container := func(name string) corev1.Container {
		probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString(name)}}, PeriodSeconds: 10}
		return corev1.Container{Name: name, Image: "registry.example.internal/" + app + ":v1.2.3", Env: env,
			Ports:         []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			LivenessProbe: probe, ReadinessProbe: probe,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-7d9f8c6b5-%06d", app, i), Namespace: scaleNS,
			Labels: map[string]string{"app": app, "pod-template-hash": "7d9f8c6b5", "team": "payments", "tier": "backend", "version": "v1.2.3"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
				"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1200)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-7d9f8c6b5", UID: "00000000-0000-0000-0000-000000000001", Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: "fake-node", Containers: []corev1.Container{container("app"), container("proxy")},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app}}}}}},
	}
}

func statusFor(i int, now time.Time) corev1.PodStatus {
	st := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}}}
	for _, name := range []string{"app", "proxy"} {
		cs := corev1.ContainerStatus{Name: name, Ready: true, Image: "registry.example.internal/x:v1.2.3", ImageID: "sha256:" + strings.Repeat("a", 64),
			ContainerID: "containerd://" + strings.Repeat("b", 64), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}}
		if i%100 == 0 && name == "app" { // 1% crash
			cs.Ready, cs.RestartCount = false, 7
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 2m40s restarting failed container=app"}}
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
				StartedAt: metav1.NewTime(now.Add(-time.Minute)), FinishedAt: metav1.NewTime(now.Add(-30 * time.Second))}}
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	return st
}
