package diagnose

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// jobPod is a Job's attempt under restartPolicy Never whose container
// "work" exited with code ago before orderNow; phase is the pod's phase and
// reason its pod-level reason (the node's, e.g. Evicted).
func jobPod(phase corev1.PodPhase, reason string, code int32, ago time.Duration) *corev1.Pod {
	end := orderNow.Add(-ago)
	yes := true
	cs := corev1.ContainerStatus{Name: "work", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: "Error", StartedAt: metav1.NewTime(end.Add(-30 * time.Second)), FinishedAt: metav1.NewTime(end)}}}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "import-x7k2p", UID: "u1",
			OwnerReferences: []metav1.OwnerReference{{Kind: "Job", Name: "import", Controller: &yes}}},
		Spec:   corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "work"}}},
		Status: corev1.PodStatus{Phase: phase, Reason: reason, ContainerStatuses: []corev1.ContainerStatus{cs}}}
}

// TestEndedPods: a container that ended in failure and that nothing will
// restart (a Job's attempt, a bare pod, a restartPolicy Never container) is
// failing, for a day after it ended when its pod has ended; an ended pod
// never shows a crash loop; a pod the node ended (an eviction) is not a
// crash.
func TestEndedPods(t *testing.T) {
	always := rulePod(corev1.RestartPolicyAlways, "", nil, 1, 0, false) // about to be restarted
	always.Status.Phase = corev1.PodRunning
	evictedDeploy := rulePod(corev1.RestartPolicyAlways, "", nil, 137, 4, false)
	evictedDeploy.Status.Phase, evictedDeploy.Status.Reason = corev1.PodFailed, "Evicted"
	neverBeside := jobPod(corev1.PodRunning, "", 1, time.Minute)
	neverBeside.Spec.Containers = append(neverBeside.Spec.Containers, corev1.Container{Name: "proxy"})
	neverBeside.Status.ContainerStatuses = append(neverBeside.Status.ContainerStatuses, corev1.ContainerStatus{Name: "proxy",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(orderNow.Add(-time.Hour))}}})
	tests := []struct {
		name    string
		pod     *corev1.Pod
		failing bool
		state   string
		recheck time.Duration // after the container's end; 0: none
	}{
		{"a Job's failed attempt", jobPod(corev1.PodFailed, "", 1, time.Hour), true, "Error", endedWindow},
		{"the same a day later: aged out", jobPod(corev1.PodFailed, "", 1, endedWindow+time.Minute), false, "Error", 0},
		{"a Job's attempt that succeeded", jobPod(corev1.PodSucceeded, "", 0, time.Minute), false, "Error", 0},
		{"DeadlineExceeded is the pod's own limit: its kill counts", jobPod(corev1.PodFailed, "DeadlineExceeded", 137, time.Minute), true, "Error", endedWindow},
		{"evicted: the node's decision, not a crash", jobPod(corev1.PodFailed, "Evicted", 137, time.Minute), false, "Error", 0},
		{"an evicted Deployment pod with restarts is no crash loop", evictedDeploy, false, "Error", 0},
		{"restartPolicy Never beside a running container: ended for good, the pod runs on", neverBeside, true, "Error", 0},
		{"restartPolicy Always, not restarted yet: not failing until the kubelet backs off", always, false, "Error", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(tc.pod, orderNow)
			if v.Failing != tc.failing {
				t.Fatalf("failing %v, want %v (%+v)", v.Failing, tc.failing, v.Pod)
			}
			if tc.failing && v.Pod.State != tc.state {
				t.Errorf("state %q, want %q", v.Pod.State, tc.state)
			}
			want := time.Time{}
			if tc.recheck > 0 {
				want = lastTermination(tc.pod.Status.ContainerStatuses[0]).FinishedAt.Add(tc.recheck)
			}
			if tc.failing && !v.Recheck.Equal(want) {
				t.Errorf("recheck %v, want %v", v.Recheck, want)
			}
			r := Diagnose(Input{Pod: tc.pod, Now: orderNow})
			if r.Crashing != tc.failing {
				t.Errorf("detail crashing %v, the row %v", r.Crashing, tc.failing)
			}
			if r.Backoff != nil {
				t.Errorf("a back-off timeline for a container nothing restarts: %+v", r.Backoff)
			}
		})
	}
}

// TestJobFinding: the detail says where the pod's Job stands, in the Job
// controller's own terms, and only for an attempt that failed.
func TestJobFinding(t *testing.T) {
	six := int32(6)
	job := func(failed, succeeded int32, cond batchv1.JobConditionType, reason, msg string) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "import"}, Spec: batchv1.JobSpec{BackoffLimit: &six},
			Status: batchv1.JobStatus{Failed: failed, Succeeded: succeeded}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: reason, Message: msg}}
		}
		return j
	}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		job      *batchv1.Job
		severity string // "" when no job finding is wanted
		says     string
	}{
		{"attempts left", jobPod(corev1.PodFailed, "", 1, time.Minute), job(3, 0, "", "", ""), SeverityWarning,
			"Job/import has had 3 failed attempts of the 7 its backoffLimit 6 allows: 4 left before the Job fails. The next pod comes after a back-off of 10 s"},
		{"backoffLimit reached", jobPod(corev1.PodFailed, "", 1, time.Minute), job(7, 0, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"), SeverityError,
			"Job/import has failed (BackoffLimitExceeded: Job has reached the specified backoff limit) after 7 failed pods: it creates no more pods."},
		{"a later attempt succeeded", jobPod(corev1.PodFailed, "", 1, time.Minute), job(1, 1, batchv1.JobComplete, "", ""), SeverityInfo,
			"has since completed (1 succeeded)"},
		{"the attempt that succeeded gets none", jobPod(corev1.PodSucceeded, "", 0, time.Minute), job(1, 1, batchv1.JobComplete, "", ""), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Diagnose(Input{Pod: tc.pod, Job: tc.job, Now: orderNow})
			var got *Finding
			for i := range r.Findings {
				if r.Findings[i].ID == FindingJobFailing {
					got = &r.Findings[i]
				}
			}
			if tc.severity == "" {
				if got != nil {
					t.Fatalf("a job finding for a pod that did not fail: %s", got.Verdict)
				}
				return
			}
			if got == nil {
				t.Fatalf("no job finding in %v", r.Findings)
			}
			if got.Severity != tc.severity || !strings.Contains(got.Verdict, tc.says) {
				t.Errorf("%s %q, want %s containing %q", got.Severity, got.Verdict, tc.severity, tc.says)
			}
			if r.Findings[0].ID == FindingJobFailing {
				t.Errorf("where the Job stands ranks before why the pod failed: %v", r.Findings[0])
			}
		})
	}
}

// TestWholePodRestart: a pod its own rule restarts as a whole is one
// failing row, for the container whose rule fires, in the seconds its exit
// shows and after, when every container shows the kubelet's placeholder
// (as read on the project's 1.36 cluster); the containers removed around it
// are not failures.
func TestWholePodRestart(t *testing.T) {
	end := orderNow.Add(-time.Minute)
	restartAll := []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestartAllContainers,
		ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{3}}}}
	always := corev1.ContainerRestartPolicyAlways
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(end.Add(4 * time.Second))}}
	placeholder := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reasonRestartingAll, Message: "The container is removed because RestartAllContainers in place", ExitCode: 137}}
	pod := func(trainer corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "trainer-5d94ff96c4-q5tdq", UID: "u1"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "cache"}, {Name: "trainer", RestartPolicy: &always, RestartPolicyRules: restartAll}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{Name: "cache", RestartCount: 5, State: running, LastTerminationState: placeholder}, trainer}}}
	}
	after := pod(corev1.ContainerStatus{Name: "trainer", RestartCount: 5, State: running, LastTerminationState: placeholder})
	moment := pod(corev1.ContainerStatus{Name: "trainer", RestartCount: 4, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: "Error", ExitCode: 3, StartedAt: metav1.NewTime(end.Add(-20 * time.Second)), FinishedAt: metav1.NewTime(end)}}})
	moment.Status.ContainerStatuses[0].RestartCount = 4

	during, steady := Classify(moment, end.Add(time.Second)), Classify(after, orderNow)
	if !during.Failing || during.Pod.Container != "trainer" || during.Pod.State != StateRestarting || during.Pod.ExitCode != 3 {
		t.Errorf("while the exit shows: %+v", during.Pod)
	}
	if !steady.Failing || steady.Pod.Container != "trainer" || steady.Pod.State != StateRestarted || steady.Pod.ExitCode != -1 ||
		steady.Pod.Cause != "its rule restarts the whole pod" {
		t.Errorf("after the restart: %+v", steady.Pod)
	}
	if during.Pod.GroupKey() != steady.Pod.GroupKey() {
		t.Errorf("the group flaps: %q then %q", during.Pod.GroupKey(), steady.Pod.GroupKey())
	}
	if late := Classify(after, orderNow.Add(recentRestartWindow)); late.Failing {
		t.Errorf("still failing %v after the last restart", recentRestartWindow)
	}
	r := Diagnose(Input{Pod: after, Now: orderNow})
	if r.Pod.Container != "trainer" || r.Backoff != nil || !strings.Contains(findingText(r, FindingRestartRule), "restartPolicyRules[0] (RestartAllContainers on exit code In [3]) restarted every container") {
		t.Errorf("the detail of the pod: %s, backoff %v, %v", r.Pod.Container, r.Backoff, r.Findings)
	}
	if r.Cause() != "its rule restarts the whole pod" {
		t.Errorf("the detail's cause %q, the row's %q", r.Cause(), steady.Pod.Cause)
	}
	if r.Exit == nil || !strings.Contains(r.Exit.Explanation, "The pod restarted as a whole") {
		t.Errorf("the trainer's exit: %+v", r.Exit)
	}
	cache := Diagnose(Input{Pod: after, Container: "cache", Now: orderNow})
	if cache.Crashing || cache.Exit == nil || cache.Exit.Killer != KillerPodRestart ||
		!strings.Contains(cache.Exit.Explanation, "because an exit of container trainer matched a RestartAllContainers rule") ||
		findingText(cache, FindingRestartRule) != "" {
		t.Errorf("the removed container: crashing %v, exit %+v, %v", cache.Crashing, cache.Exit, cache.Findings)
	}
}

func findingText(r Report, id string) string {
	for _, f := range r.Findings {
		if f.ID == id {
			return f.Verdict
		}
	}
	return ""
}
