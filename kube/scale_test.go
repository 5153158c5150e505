//go:build scale

package kube

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The scale benchmark runs on a control-plane-only cluster (make bench
// starts one): pods are written straight to the apiserver, 1% with crash
// statuses, no kubelet touches them.

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

// populate creates pods up to n (reusing what an earlier run made).
func populate(b *testing.B, c kubernetes.Interface, n int) {
	ctx := context.Background()
	_, _ = c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scaleNS}}, metav1.CreateOptions{})
	// Pods are named by index: when the last one exists, an earlier run
	// wrote them all.
	if _, err := c.CoreV1().Pods(scaleNS).Get(ctx, realisticPod(n-1).Name, metav1.GetOptions{}); err == nil {
		return
	}
	start, now := time.Now(), time.Now()
	err := parallel(32, n, func(i int) error {
		p, err := c.CoreV1().Pods(scaleNS).Create(ctx, realisticPod(i), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		if err != nil {
			return err
		}
		p.Status = statusFor(i, now)
		_, err = c.CoreV1().Pods(scaleNS).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		b.Fatalf("writing pods: %v", err)
	}
	b.Logf("wrote %d pods in %s", n, time.Since(start).Round(time.Second))
}

// BenchmarkScale reports, per pod count: a raw protobuf LIST of every pod
// into io.Discard, the watcher's time to its first full batch of crash
// groups, their ratio, and the heap the watcher holds per watched pod.
func BenchmarkScale(b *testing.B) {
	sizes := []int{10000, 50000}
	if s := os.Getenv("CRASHLENS_SCALE_PODS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	cfg := clusterConfig(b)
	writer := rest.CopyConfig(cfg)
	writer.QPS, writer.Burst = 2000, 4000
	wc := kubernetes.NewForConfigOrDie(writer)
	fmt.Printf("\n| pods | protobuf LIST | first crash group | ratio | all groups (synced) | groups | heap per watched pod |\n|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		populate(b, wc, n)
		c, err := NewClientset(cfg, "bench")
		if err != nil {
			b.Fatal(err)
		}
		// Raw LIST, protobuf, into io.Discard.
		start := time.Now()
		rc, err := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/pods").SetHeader("Accept", "application/vnd.kubernetes.protobuf").Stream(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
		list := time.Since(start)

		before := heapInUse()
		ctx, cancel := context.WithCancel(context.Background())
		w := NewWatcher(c, "", "")
		start = time.Now()
		go w.Run(ctx)
		var first, synced time.Duration
		seen := map[string]bool{}
		for bt := range w.Batches() {
			for _, g := range bt.Upserted {
				seen[g.Key] = true
			}
			if first == 0 && len(bt.Upserted) > 0 {
				first = time.Since(start)
			}
			if bt.State.Phase == PhaseSynced {
				synced = time.Since(start)
				break
			}
		}
		groups := len(seen)
		after := heapInUse()
		perPod := float64(int64(after)-int64(before)) / float64(n)
		cancel()
		for range w.Batches() {
		}
		fmt.Printf("| %d | %s | %s | %.2fx | %s | %d | %.0f B |\n", n, list.Round(time.Millisecond), first.Round(time.Millisecond),
			first.Seconds()/list.Seconds(), synced.Round(time.Millisecond), groups, perPod)
		runtime.KeepAlive(w)
	}
}
