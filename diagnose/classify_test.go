package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// recordedPod loads a pod recorded from the real cluster by demo/record.
func recordedPod(t *testing.T, scenario string) *corev1.Pod {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", scenario, "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p corev1.Pod
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// recordedAt is when the recording's newest container event happened.
func recordedAt(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		for _, x := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if x != nil && x.FinishedAt.After(t) {
				t = x.FinishedAt.Time
			}
		}
		if r := cs.State.Running; r != nil && r.StartedAt.After(t) {
			t = r.StartedAt.Time
		}
	}
	if t.IsZero() {
		t = p.CreationTimestamp.Time
	}
	return t
}

// TestClassifyRecordedPods: every recorded scenario pod is classified as
// the real cluster showed it.
func TestClassifyRecordedPods(t *testing.T) {
	tests := []struct {
		scenario  string
		crashing  bool
		container string
		reason    string
		exit      int32
		owner     string
	}{
		{"probe-mixup-bad", true, "app", "Error", 137, "Deployment/probe-mixup-bad"},
		{"probe-mixup-good", false, "", "", 0, ""},
		{"liveness-without-readiness", true, "user-container", "Error", 2, "Deployment/greeter"},
		{"missing-script", true, "checkoutservice", "Error", 2, "Deployment/checkoutservice"},
		{"oomkilled", true, "builder", "OOMKilled", 137, "Deployment/report-builder"},
		{"backoff-never-resets", true, "app-tcb-api", "Error", 137, "Deployment/api"},
		{"missing-configmap-key", true, "api", "CreateContainerConfigError", -1, "Deployment/invoice-api"},
		{"missing-secret", true, "worker", "CreateContainerConfigError", -1, "Deployment/invoice-worker"},
		{"missing-volume", true, "ledger", "ContainerCreating", -1, "Deployment/ledger"},
		{"image-pull", true, "api", "ImagePullBackOff", -1, "Deployment/payments-api"},
		{"dependency-refused", true, "api", "Error", 1, "Deployment/orders-api"},
		{"permission-denied", true, "indexer", "Error", 1, "Deployment/orders-indexer"},
		{"command-not-found", true, "worker", "Error", 127, "Deployment/queue-worker"},
		{"not-executable", true, "runner", "Error", 126, "Deployment/report-runner"},
		{"segfault", true, "thumbnailer", "Error", 139, "Deployment/thumbnailer"},
		{"sigterm-ignored", true, "bridge", "Error", 137, "Deployment/soap-bridge"},
		{"init-crashloop", true, "db-migrate", "Init:Error", 1, "Deployment/catalog-api"},
		{"exit-zero", true, "warmer", "Completed", 0, "Deployment/cache-warmer"},
		{"rollout-regression", true, "api", "Error", 2, "Deployment/search-api"},
		{"healthy", false, "", "", 0, ""},
		{"healthy-job", false, "", "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			pod := recordedPod(t, tc.scenario)
			now := recordedAt(pod).Add(5 * time.Second)
			if tc.reason == "ContainerCreating" {
				now = pod.CreationTimestamp.Add(2 * time.Minute)
			}
			v := Classify(pod, now)
			cp, ok := v.Pod, v.Failing
			if ok != tc.crashing {
				t.Fatalf("crashing=%v, want %v (%+v)", ok, tc.crashing, cp)
			}
			if !ok {
				return
			}
			if cp.Container != tc.container || cp.Reason != tc.reason || cp.ExitCode != tc.exit || cp.Owner != tc.owner {
				t.Errorf("got container=%s reason=%s exit=%d owner=%s, want %s %s %d %s",
					cp.Container, cp.Reason, cp.ExitCode, cp.Owner, tc.container, tc.reason, tc.exit, tc.owner)
			}
			if cp.Init != (tc.scenario == "init-crashloop") {
				t.Errorf("init=%v", cp.Init)
			}
		})
	}
}

func TestClassifyEdgeCases(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	term := func(code int32, reason string, ago time.Duration) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, FinishedAt: metav1.NewTime(now.Add(-ago)), StartedAt: metav1.NewTime(now.Add(-ago - time.Second))}
	}
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name   string
		pod    corev1.Pod
		crash  bool
		reason string
	}{
		{"running after a restart 2 minutes ago counts", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "a", RestartCount: 4, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: term(137, "OOMKilled", 2*time.Minute)}}}}}, true, "OOMKilled"},
		{"running after a restart an hour ago does not", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "a", RestartCount: 4, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: term(1, "Error", time.Hour)}}}}}, false, ""},
		{"exit 0 under OnFailure with no restarts does not", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: corev1.ContainerState{Terminated: term(0, "Completed", time.Second)}}}}}, false, ""},
		{"ErrImagePull and ImagePullBackOff are one reason", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "a", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}}}}, true, "ImagePullBackOff"},
		{"a crashing native sidecar is a container, not an init step", corev1.Pod{
			Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: &always}}},
			Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{{Name: "proxy", RestartCount: 3,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=proxy pod=ns/p_uid"}},
				LastTerminationState: corev1.ContainerState{Terminated: term(1, "Error", 10*time.Second)}}}}}, true, "Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.pod.Name, tc.pod.Namespace = "p", "ns"
			v := Classify(&tc.pod, now)
			cp, ok := v.Pod, v.Failing
			if ok != tc.crash || (ok && cp.Reason != tc.reason) {
				t.Errorf("crash=%v reason=%q, want %v %q", ok, cp.Reason, tc.crash, tc.reason)
			}
			if ok && cp.Init {
				t.Errorf("marked as an init container: %+v", cp)
			}
			if tc.name == "a crashing native sidecar is a container, not an init step" && !cp.NextRestart.Equal(now.Add(30*time.Second)) {
				t.Errorf("next restart %s, want finishedAt + 40s", cp.NextRestart)
			}
		})
	}
}

func TestResolveOwner(t *testing.T) {
	yes := true
	ref := func(kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &yes}}
	}
	tests := []struct {
		meta metav1.ObjectMeta
		want string
	}{
		{metav1.ObjectMeta{Name: "api-5966577d7b-x2m46", Labels: map[string]string{"pod-template-hash": "5966577d7b"}, OwnerReferences: ref("ReplicaSet", "api-5966577d7b")}, "Deployment/api"},
		{metav1.ObjectMeta{Name: "rs-abc", OwnerReferences: ref("ReplicaSet", "legacy")}, "ReplicaSet/legacy"},
		{metav1.ObjectMeta{Name: "report-29123456-x", OwnerReferences: ref("Job", "report-29123456")}, "CronJob/report"},
		{metav1.ObjectMeta{Name: "migrate-x", OwnerReferences: ref("Job", "migrate")}, "Job/migrate"},
		{metav1.ObjectMeta{Name: "db-0", OwnerReferences: ref("StatefulSet", "db")}, "StatefulSet/db"},
		{metav1.ObjectMeta{Name: "lonely"}, "Pod/lonely"},
	}
	for _, tc := range tests {
		if got := ResolveOwner(&corev1.Pod{ObjectMeta: tc.meta}); got != tc.want {
			t.Errorf("ResolveOwner(%s) = %s, want %s", tc.meta.Name, got, tc.want)
		}
	}
}

// TestClassifyRecheck: the verdict says when the clock alone flips it, so a
// watcher re-checks once instead of classifying again and again.
func TestClassifyRecheck(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	finished := now.Add(-2 * time.Minute)
	restarted := corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name: "a", RestartCount: 4, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.NewTime(finished)}}}}}}
	creating := corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-20 * time.Second))},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "a", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}}
	crashing := corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name: "a", RestartCount: 2, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}}
	tests := []struct {
		name    string
		pod     corev1.Pod
		failing bool
		recheck time.Time
		state   string
	}{
		{"a recent restart ages out", restarted, true, finished.Add(recentRestartWindow), "Restarted"},
		{"a pod stuck creating becomes failing", creating, false, now.Add(40 * time.Second), "ContainerCreating"},
		{"a crash loop needs a change to the pod", crashing, true, time.Time{}, "CrashLoopBackOff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(&tc.pod, now)
			if v.Failing != tc.failing || !v.Recheck.Equal(tc.recheck) || v.Pod.State != tc.state {
				t.Fatalf("failing=%v recheck=%s state=%q, want %v %s %q", v.Failing, v.Recheck, v.Pod.State, tc.failing, tc.recheck, tc.state)
			}
			if tc.recheck.IsZero() {
				return
			}
			// At the re-check the verdict has flipped, as promised.
			if after := Classify(&tc.pod, tc.recheck); after.Failing == tc.failing {
				t.Errorf("at the re-check still failing=%v", after.Failing)
			}
			if before := Classify(&tc.pod, tc.recheck.Add(-time.Millisecond)); before.Failing != tc.failing {
				t.Errorf("just before the re-check failing=%v", before.Failing)
			}
		})
	}
}
