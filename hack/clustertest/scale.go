package clustertest

// The scale benchmarks (BenchmarkScale of kube/podwatch, BenchmarkFleet of
// kube/clusters) run on control-plane-only clusters (make bench starts
// them): pods are written straight to the apiserver, 1% with crash
// statuses and 1% as a Job's failed attempts, no kubelet touches them.
// Both measure against the same floor and the same real binary, so what
// they share is here; the pods are also the decoder's benchmark and fuzz
// seeds.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// ScaleNamespace holds the scale benchmarks' pods.
const ScaleNamespace = "scale"

// WorstLabel marks the pods of the worst case: every healthy pod and one
// crashing pod whose name sorts last, so with this selector exactly one pod
// crashes and it is the last in the stream.
const WorstLabel = "crashlens-bench/worst"

// lastCrash is the worst case's crashing pod; written after all others, it
// also says that an earlier run wrote them all.
const lastCrash = "zz-last-crash"

// RealisticPod is about 6.5 KB as stored: labels, annotations, two
// containers with env, probes, resources, mounts, and a running status.
func RealisticPod(i int) *corev1.Pod {
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
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-7d9f8c6b5-%06d", app, i), Namespace: ScaleNamespace,
			Labels: map[string]string{"app": app, "pod-template-hash": "7d9f8c6b5", "team": "payments", "tier": "backend", "version": "v1.2.3"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
				"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1200)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-7d9f8c6b5", UID: "00000000-0000-0000-0000-000000000001", Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: "fake-node", Containers: []corev1.Container{container("app"), container("proxy")},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app}}}}}},
	}
}

// HealthyStatus is RealisticPod(i)'s status at now when it runs: both
// containers running and ready.
func HealthyStatus(i int, now time.Time) corev1.PodStatus {
	st := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}}}
	for _, name := range []string{"app", "proxy"} {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{Name: name, Ready: true, Image: "registry.example.internal/x:v1.2.3", ImageID: "sha256:" + strings.Repeat("a", 64),
			ContainerID: "containerd://" + strings.Repeat("b", 64), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}})
	}
	return st
}

// Crashed turns st's container (its first, "app") into one the kubelet
// holds in CrashLoopBackOff after restarts restarts, the last of which
// ended as term, and the pod unready. It changes st's slices in place:
// give it a status of its own (a fresh one, or a DeepCopy's).
func Crashed(st corev1.PodStatus, restarts int32, term corev1.ContainerStateTerminated) corev1.PodStatus {
	cs := &st.ContainerStatuses[0]
	cs.Ready, cs.RestartCount = false, restarts
	cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 2m40s restarting failed container=" + cs.Name}}
	cs.LastTerminationState = corev1.ContainerState{Terminated: &term}
	st.Conditions[0].Status = corev1.ConditionFalse
	return st
}

// RealisticStatus is RealisticPod(i)'s status at now: running, or for one
// pod in a hundred (i%100 == 0) its app container in CrashLoopBackOff
// after an OOM kill.
func RealisticStatus(i int, now time.Time) corev1.PodStatus {
	st := HealthyStatus(i, now)
	if i%100 != 0 { // 1% crash
		return st
	}
	return Crashed(st, 7, corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
		StartedAt: metav1.NewTime(now.Add(-time.Minute)), FinishedAt: metav1.NewTime(now.Add(-30 * time.Second))})
}

// failedAttempt: one pod in a hundred that Populate writes (i%100 == 50)
// is a Job's failed attempt. The watcher keeps failed pods (a failed
// attempt counts as a crash for a day), so the scale figures include
// them, as a busy cluster's batch work would.
func failedAttempt(i int) bool { return i%100 == 50 }

// FailedJobAttempt is RealisticPod(i) as a Job's failed attempt: owned by
// a Job, restartPolicy Never.
func FailedJobAttempt(i int) *corev1.Pod {
	p := RealisticPod(i)
	yes := true
	job := fmt.Sprintf("nightly-%04d-29433120", i/100)
	p.Name = fmt.Sprintf("%s-%06d", job, i)
	p.Labels = map[string]string{"batch.kubernetes.io/job-name": job, "job-name": job, "team": "payments"}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job, UID: "00000000-0000-0000-0000-000000000002", Controller: &yes}}
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.Containers = p.Spec.Containers[:1]
	p.Spec.Containers[0].LivenessProbe, p.Spec.Containers[0].ReadinessProbe = nil, nil
	return p
}

// FailedJobStatus is FailedJobAttempt(i)'s status: phase Failed, its
// container ended with exit 1 an hour before now.
func FailedJobStatus(i int, now time.Time) corev1.PodStatus {
	st := HealthyStatus(i, now)
	st.Phase, st.PodIP = corev1.PodFailed, ""
	st.Conditions[0].Status = corev1.ConditionFalse
	cs := &st.ContainerStatuses[0]
	cs.Ready = false
	cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
		StartedAt: metav1.NewTime(now.Add(-61 * time.Minute)), FinishedAt: metav1.NewTime(now.Add(-time.Hour))}}
	st.ContainerStatuses = st.ContainerStatuses[:1]
	return st
}

// Populate creates realistic pods in ScaleNamespace up to n (reusing what
// an earlier run made), the last one the worst case's crash. One in a
// hundred is running and crash-looping (RealisticStatus), one in a hundred
// a Job's failed attempt (FailedJobAttempt).
func Populate(tb testing.TB, c kubernetes.Interface, n int) {
	tb.Helper()
	ctx := context.Background()
	_, _ = c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ScaleNamespace}}, metav1.CreateOptions{})
	if p, err := c.CoreV1().Pods(ScaleNamespace).Get(ctx, lastCrash, metav1.GetOptions{}); err == nil && p.Labels["size"] == strconv.Itoa(n) {
		return
	}
	start, now := time.Now(), time.Now()
	// write creates p and gives it status st; healthy marks it for the
	// worst case's selector.
	write := func(p *corev1.Pod, st corev1.PodStatus, healthy bool) error {
		if healthy || p.Name == lastCrash {
			p.Labels[WorstLabel] = "1"
		}
		p, err := c.CoreV1().Pods(ScaleNamespace).Create(ctx, p, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		if err != nil {
			return err
		}
		p.Status = st
		_, err = c.CoreV1().Pods(ScaleNamespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	}
	if err := Parallel(32, n, func(i int) error {
		if failedAttempt(i) {
			return write(FailedJobAttempt(i), FailedJobStatus(i, now), false)
		}
		return write(RealisticPod(i), RealisticStatus(i, now), i%100 != 0)
	}); err != nil {
		tb.Fatalf("writing pods: %v", err)
	}
	_ = c.CoreV1().Pods(ScaleNamespace).Delete(ctx, lastCrash, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	last := RealisticPod(0) // index 0 crashes
	last.Name = lastCrash
	last.Labels["size"] = strconv.Itoa(n)
	if err := write(last, RealisticStatus(0, now), false); err != nil {
		tb.Fatalf("writing the last pod: %v", err)
	}
	tb.Logf("wrote %d pods in %s", n, time.Since(start).Round(time.Second))
}

// RawList is the floor: every pod (matching selector) as protobuf, read
// into io.Discard, nothing decoded. It returns when the first byte came
// and when the last did.
func RawList(tb testing.TB, c kubernetes.Interface, selector string) (time.Duration, time.Duration) {
	tb.Helper()
	start := time.Now()
	req := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/pods").SetHeader("Accept", "application/vnd.kubernetes.protobuf")
	if selector != "" {
		req = req.Param("labelSelector", selector)
	}
	rc, err := req.Stream(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(rc, first); err != nil {
		tb.Fatal(err)
	}
	firstByte := time.Since(start)
	if _, err := io.Copy(io.Discard, rc); err != nil {
		tb.Fatal(err)
	}
	return firstByte, time.Since(start)
}

// RunTUIUnderPty runs the TUI in a 160x50 pty until its debug log says
// its watchers synced (one per context of a fleet: watchers), then 30 s
// more: time to synced, peak RSS (KiB) and the share of a core it used
// while idle.
func RunTUIUnderPty(tb testing.TB, bin, kubeconfig string, watchers int, args ...string) (time.Duration, int64, float64) {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), "debug.log")
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig, "--no-ledger"}, args...)...)
	cmd.Env = append(os.Environ(), "CRASHLENS_DEBUG_LOG="+logPath, "TERM=xterm-256color")
	start := time.Now()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 160, Rows: 50})
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, tty) }()
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tty.Close()
	}()
	var synced time.Duration
	for deadline := time.Now().Add(10 * time.Minute); synced == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the TUI never synced")
		}
		if log, _ := os.ReadFile(logPath); strings.Count(string(log), "watcher: synced") >= watchers {
			synced = time.Since(start)
		}
	}
	time.Sleep(5 * time.Second) // the sync's own work settles
	// and the captures it started: every request is a line of the debug
	// log, so they are done when it stops growing.
	drained(tb, func() float64 {
		st, err := os.Stat(logPath)
		if err != nil {
			return 0
		}
		return float64(st.Size())
	})
	Settle(tb) // and the apiserver's after the sync's LIST
	cpu0 := ProcCPU(tb, cmd.Process.Pid)
	time.Sleep(30 * time.Second)
	idle := (ProcCPU(tb, cmd.Process.Pid) - cpu0).Seconds() / 30
	return synced, PeakRSS(tb, cmd.Process.Pid) >> 10, idle
}

// Settle collects the bench apiserver's garbage, then waits, at most
// 30 s, until the bench cluster's kube-apiserver and etcd used under 5% of
// a core over half a second. Without the collection, whether the
// apiserver's collector marked its multi-gigabyte heap (the watch cache)
// during a measured LIST decided the round: the apiserver and etcd spent
// 2.3 to 7.7 s of CPU on the same 50,000-pod LIST from round to round.
func Settle(tb testing.TB) {
	tb.Helper()
	runtime.GC()
	collectServerGarbage(tb)
	pids := ServerPids(tb)
	const window = 500 * time.Millisecond
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		before := ServerCPU(tb, pids)
		time.Sleep(window)
		if ServerCPU(tb, pids)-before < window/20 {
			return
		}
	}
}

// collectServerGarbage has the bench apiserver run its collector (the
// profiling handler's gc=1; clusterctl starts control-plane-only
// apiservers with --profiling).
func collectServerGarbage(tb testing.TB) {
	tb.Helper()
	c, err := kubernetes.NewForConfig(AdminConfig(tb))
	if err != nil {
		tb.Fatal(err)
	}
	rc, err := c.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/heap").Param("gc", "1").Stream(context.Background())
	if err != nil {
		tb.Fatalf("collecting the apiserver's garbage (is it a control-plane-only cluster of clusterctl, which has --profiling?): %v", err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		tb.Fatalf("collecting the apiserver's garbage: %v", err)
	}
}

// ServerPids are the bench cluster's kube-apiserver and etcd (their pid
// files are in the cluster's run directory; clusterctl's layout).
func ServerPids(tb testing.TB) []int {
	tb.Helper()
	run := os.Getenv("CRASHLENS_CLUSTER_RUN")
	if run == "" {
		run = "/run/crashlens-cluster"
	}
	var pids []int
	for _, name := range []string{"kube-apiserver", "etcd"} {
		raw, err := os.ReadFile(filepath.Join(run, "pids", name+".pid"))
		if err != nil {
			tb.Fatalf("the bench cluster's processes: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			tb.Fatalf("the bench cluster's processes: %s: %v", name, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// ServerCPU is the CPU time the processes (ServerPids) have used so far.
func ServerCPU(tb testing.TB, pids []int) time.Duration {
	tb.Helper()
	var d time.Duration
	for _, pid := range pids {
		d += ProcCPU(tb, pid)
	}
	return d
}

// drained waits until progress (a count of the work done) has not moved
// for 5 s, at most 10 minutes: the crash groups a sync finds are captured
// at four a second (500 groups at 50,000 pods: two minutes), and idle is
// what a process costs after that, when nothing changes.
func drained(tb testing.TB, progress func() float64) {
	tb.Helper()
	start, last, still := time.Now(), progress(), 0
	for time.Since(start) < 10*time.Minute && still < 5 {
		time.Sleep(time.Second)
		if now := progress(); now != last {
			last, still = now, 0
		} else {
			still++
		}
	}
	tb.Logf("captures drained after %s", time.Since(start).Round(time.Second))
}
