package diagnose

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rulePod: pod restartPolicy podPolicy; container "worker" with its own
// policy and rules, whose last exit was code after restarts restarts;
// waiting says the kubelet shows it backing off (else terminated).
func rulePod(podPolicy corev1.RestartPolicy, own corev1.ContainerRestartPolicy, rules []corev1.ContainerRestartRule, code int32, restarts int32, waiting bool) *corev1.Pod {
	end := orderNow.Add(-20 * time.Second)
	term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error", StartedAt: metav1.NewTime(end.Add(-5 * time.Second)), FinishedAt: metav1.NewTime(end)}
	if code == 0 {
		term.Reason = "Completed"
	}
	cs := corev1.ContainerStatus{Name: "worker", RestartCount: restarts}
	if waiting {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=worker pod=p_ns(1)"}
		cs.LastTerminationState.Terminated = term
	} else {
		cs.State.Terminated = term
	}
	c := corev1.Container{Name: "worker", RestartPolicyRules: rules}
	if own != "" {
		c.RestartPolicy = &own
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec:   corev1.PodSpec{RestartPolicy: podPolicy, Containers: []corev1.Container{c}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{cs}}}
}

var restartOn42 = []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestart,
	ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42}}}}

// TestRestartRules: the container's own policy and rules decide what an
// exit does, and the report says so, predicts the other exits and never
// promises a restart the rules do not allow.
func TestRestartRules(t *testing.T) {
	tests := []struct {
		name       string
		pod        *corev1.Pod
		state      string // the row's; "" when it is not failing
		backoff    bool   // a timeline with a next restart
		has, lacks []string
		says       string // in the restart-rule finding
	}{
		{"exit 42 matches the rule: restarted in place under Never", rulePod(corev1.RestartPolicyNever, corev1.ContainerRestartPolicyNever, restartOn42, 42, 3, true),
			"CrashLoopBackOff", true, []string{FindingRestartRule, FindingAppErrorExit}, nil, "matched restartPolicyRules[0] (Restart on exit code In [42])"},
		{"exit 1 matches no rule: the container ends for good", rulePod(corev1.RestartPolicyNever, corev1.ContainerRestartPolicyNever, restartOn42, 1, 3, false),
			"Error", false, []string{FindingRestartRule}, []string{FindingBackoffNeverResets}, "it is not restarted"},
		{"the prediction names the other exits", rulePod(corev1.RestartPolicyNever, corev1.ContainerRestartPolicyNever, restartOn42, 1, 3, false),
			"Error", false, nil, nil, "Otherwise: exit 42 restarts the container; another code (e.g. 2) ends it for good."},
		{"exit 0 under a container policy Never in an Always pod is not exit-zero-under-always (nor failing)", rulePod(corev1.RestartPolicyAlways, corev1.ContainerRestartPolicyNever, nil, 0, 2, false),
			"", false, nil, []string{FindingExitZeroUnderAlways}, "it is not restarted"},
		{"exit 0 restarted by a rule is exit-zero-under-always, by that rule", rulePod(corev1.RestartPolicyNever, corev1.ContainerRestartPolicyNever,
			[]corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestart, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{0}}}}, 0, 2, true),
			"CrashLoopBackOff", true, []string{FindingExitZeroUnderAlways}, nil, "matched restartPolicyRules[0]"},
		{"RestartAllContainers restarts the whole pod in place", rulePod(corev1.RestartPolicyNever, corev1.ContainerRestartPolicyNever,
			[]corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestartAllContainers, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpNotIn, Values: []int32{0}}}}, 3, 2, true),
			// No timeline: the kubelet restarts the pod at once, with no
			// back-off (wholepod.go).
			"CrashLoopBackOff", false, []string{FindingRestartRule}, nil, "restarts every container of the pod in place"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Classify(tc.pod, orderNow)
			if v.Pod.State != tc.state {
				t.Errorf("row state %q, want %q", v.Pod.State, tc.state)
			}
			r := Diagnose(Input{Pod: tc.pod, Now: orderNow})
			if (r.Backoff != nil) != tc.backoff {
				t.Errorf("back-off timeline %v, want %v", r.Backoff != nil, tc.backoff)
			}
			ids := []string{}
			says := ""
			for _, f := range r.Findings {
				ids = append(ids, f.ID)
				if f.ID == FindingRestartRule {
					says = f.Verdict
				}
			}
			for _, id := range tc.has {
				if !slices.Contains(ids, id) {
					t.Errorf("no %s in %v", id, ids)
				}
			}
			for _, id := range tc.lacks {
				if slices.Contains(ids, id) {
					t.Errorf("%s in %v", id, ids)
				}
			}
			if !strings.Contains(says, tc.says) {
				t.Errorf("restart-rule says %q, want %q", says, tc.says)
			}
			if r.Crashing && !explainsStop(r.Findings[0]) {
				t.Errorf("first finding %s", ids[0])
			}
		})
	}
}

// TestNativeSidecar: a crash-looping native sidecar is the row's container
// (not an init step), its log is read like an app container's, and the
// report says it is a sidecar and what its crash does to the pod.
func TestNativeSidecar(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	end := orderNow.Add(-20 * time.Second)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1"},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "log-shipper", RestartPolicy: &always}},
			Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "log-shipper", RestartCount: 5,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: metav1.NewTime(end.Add(-3 * time.Second)), FinishedAt: metav1.NewTime(end)}}}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
	v := Classify(pod, orderNow)
	if !v.Failing || v.Pod.Container != "log-shipper" || v.Pod.Init || v.Pod.State != "CrashLoopBackOff" {
		t.Fatalf("row %+v", v.Pod)
	}
	log := "2026/12/05 03:12:40 shipper starting\n2026/12/05 03:12:43 dial tcp 127.0.0.1:24224: connect: connection refused\n"
	r := Diagnose(Input{Pod: pod, PreviousLog: log, Now: orderNow})
	if !r.Pod.Sidecar || r.Pod.Init || r.Findings[0].ID != FindingDependencyUnreachable {
		t.Errorf("sidecar %v init %v first %s", r.Pod.Sidecar, r.Pod.Init, r.Findings[0].ID)
	}
	if !slices.ContainsFunc(r.Findings, func(f Finding) bool {
		return f.ID == FindingSidecarCrash && strings.Contains(f.Verdict, "app containers keep running")
	}) {
		t.Errorf("no sidecar finding: %+v", r.Findings)
	}
	if c := r.Cause(); c != "dependency 127.0.0.1:24224 refused" {
		t.Errorf("CAUSE %q", c)
	}
}

// TestInitStepThatNeverFinishes: an init step that runs on (Init:0/1, 0
// restarts) is not failing at first, is re-checked when initStuckAfter
// passes, then fails with its running log as the evidence.
func TestInitStepThatNeverFinishes(t *testing.T) {
	started := orderNow.Add(-3 * time.Minute)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "api-1"},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "wait-for-db"}}, Containers: []corev1.Container{{Name: "api"}}},
		Status: corev1.PodStatus{
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "wait-for-db", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "api", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}}}}
	v := Classify(pod, orderNow)
	if v.Failing || !v.Recheck.Equal(started.Add(initStuckAfter)) {
		t.Fatalf("at 3m: failing %v, recheck %s", v.Failing, v.Recheck)
	}
	later := started.Add(7 * time.Minute)
	v = Classify(pod, later)
	if !v.Failing || v.Pod.Container != "wait-for-db" || v.Pod.State != StateInitStuck || v.Pod.Cause != "init step never finishes" {
		t.Fatalf("at 7m: %+v", v)
	}
	log := "waiting for orders-db.shop.svc:5432\nnc: bad address 'orders-db.shop.svc'\nwaiting for orders-db.shop.svc:5432\n"
	r := Diagnose(Input{Pod: pod, PreviousLog: log, Now: later})
	if !r.Crashing || r.Findings[0].ID != FindingInitStuck || !strings.Contains(r.Findings[0].Verdict, "bad address") {
		t.Errorf("report %v: %+v", r.Crashing, r.Findings[0])
	}
}
