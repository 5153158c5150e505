package capture

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/clusters"
)

// TestRow: the recorder's pure part, pod + events + log to a ledger row,
// without a client: the instance that ran, the verdict of the rulebook on
// the captured evidence, a hostile log sanitized, and a refused log kept
// as a note rather than a guess.
func TestRow(t *testing.T) {
	end := time.Date(2026, 12, 4, 2, 40, 0, 0, time.UTC)
	pod := func(reason string, code int32, current bool) *corev1.Pod {
		term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: "bye\x1b[2J",
			StartedAt: metav1.NewTime(end.Add(-90 * time.Second)), FinishedAt: metav1.NewTime(end)}
		cs := corev1.ContainerStatus{Name: "app", RestartCount: 6}
		if current {
			cs.State.Terminated = term
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
			cs.LastTerminationState.Terminated = term
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-7d9f-x2", Namespace: "shop", UID: "uid-9"},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{cs}}}
	}
	target := clusters.Target{Server: "https://10.0.0.1:6443", Context: "prod"}
	for _, tc := range []struct {
		name                   string
		ev                     Evidence
		restart                int32
		killer, finding, cause string
		logTail, logNote       string
		events                 int
	}{
		{name: "disk full, read from the log",
			ev: Evidence{Pod: pod("Error", 1, false), Container: "app", Workload: "Deployment/api",
				Log: []byte("starting\nERROR: could not extend file \"base/16384/2619\": No space left on device\n")},
			restart: 5, killer: diagnose.KillerApplication, finding: "disk-full", cause: "disk full", logTail: "could not extend file"},
		{name: "OOM kill, the instance still current",
			ev: Evidence{Pod: pod("OOMKilled", 137, true), Container: "app", Workload: "Deployment/api",
				Events: []corev1.Event{{Reason: "BackOff", Type: "Warning", Message: "Back-off restarting failed container app", Count: 3,
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-7d9f-x2", Namespace: "shop"}}}},
			restart: 6, killer: diagnose.KillerOOM, finding: "oom-killed", cause: "OOM", events: 1},
		{name: "log refused: a note, no tail",
			ev: Evidence{Pod: pod("Error", 1, false), Container: "app", Workload: "Deployment/api",
				LogErr: &kube.ForbiddenError{Verb: "get", Resource: "pods/log", Namespace: "shop"}, EventsErr: kube.ErrForbidden},
			restart: 5, killer: diagnose.KillerApplication, logNote: "forbidden"},
		{name: "hostile log text is stored sanitized",
			ev: Evidence{Pod: pod("Error", 1, false), Container: "app", Workload: "Deployment/api",
				Log: []byte("\x1b]0;owned\x07panic: boom\x1b[31m\n")},
			restart: 5, killer: diagnose.KillerApplication, logTail: "panic: boom"},
		{name: "a whole-pod restart: the exit the watcher saw, not the kubelet's placeholder",
			ev: Evidence{Pod: withTermination(wholePodPlaceholder(pod("Error", 1, false)), "app", &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error",
				Message: "bye", StartedAt: metav1.NewTime(end.Add(-90 * time.Second)), FinishedAt: metav1.NewTime(end)}, 4),
				Container: "app", Workload: "Deployment/api", LogErr: errRemovedInstance},
			restart: 4, killer: diagnose.KillerApplication, cause: "exit 3 restarts the whole pod", logNote: "RestartAllContainers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Row(target, tc.ev)
			if r.Context != "prod" || r.ClusterServer != target.Server || r.Namespace != "shop" || r.Pod != "api-7d9f-x2" ||
				r.PodUID != "uid-9" || r.Workload != "Deployment/api" || r.Container != "app" {
				t.Errorf("identity %+v", r)
			}
			if r.Restart != tc.restart || r.RunSeconds != 90 || !r.FinishedAt.Equal(end) {
				t.Errorf("instance: restart %d (want %d), ran %v s, ended %v", r.Restart, tc.restart, r.RunSeconds, r.FinishedAt)
			}
			if r.Killer != tc.killer {
				t.Errorf("killer %q, want %q", r.Killer, tc.killer)
			}
			if tc.finding != "" && (r.TopFinding != tc.finding || r.Category == "") {
				t.Errorf("top finding %q (category %q), want %q with its category", r.TopFinding, r.Category, tc.finding)
			}
			if !strings.Contains(r.Cause, tc.cause) {
				t.Errorf("cause %q, want it to say %q", r.Cause, tc.cause)
			}
			if !strings.Contains(r.LogTail, tc.logTail) || strings.ContainsRune(r.LogTail, 0x1b) || strings.ContainsRune(r.Message, 0x1b) {
				t.Errorf("log tail %q / message %q: want %q, no escapes", r.LogTail, r.Message, tc.logTail)
			}
			if !strings.Contains(r.LogNote, tc.logNote) || (tc.logNote == "") != (r.LogNote == "") {
				t.Errorf("log note %q, want %q", r.LogNote, tc.logNote)
			}
			if n := strings.Count(r.Events, "\n"); n != tc.events || tc.events > 0 && !strings.Contains(r.Events, "Warning BackOff Back-off restarting") {
				t.Errorf("events %q: want %d folded lines", r.Events, tc.events)
			}
		})
	}
}

// wholePodPlaceholder is the pod after its app container's
// RestartAllContainers rule fired: running again, with the kubelet's
// placeholder as its last state.
func wholePodPlaceholder(pod *corev1.Pod) *corev1.Pod {
	pod.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestartAllContainers,
		ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{3}}}}
	cs := &pod.Status.ContainerStatuses[0]
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "RestartingAllContainers", ExitCode: 137,
		Message: "The container is removed because RestartAllContainers in place"}}
	if !diagnose.IsWholePodPlaceholder(cs.LastTerminationState.Terminated) {
		panic("the kubelet's placeholder is not recognised")
	}
	return pod
}
