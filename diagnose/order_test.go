package diagnose

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// consequences are findings about what follows from a stop, never why.
var consequences = []string{FindingBackoffNeverResets, FindingGracePeriodKill, FindingRestartRule, FindingSidecarCrash}

// orderCase is one generated container: an exit, how long it ran, the
// kubelet's view of it, its events and its log.
type orderCase struct {
	code     int32
	reason   string
	run      time.Duration
	restarts int32
	state    int // 0 waiting in CrashLoopBackOff, 1 terminated, 2 running again
	events   int // 0 none, 1 a liveness kill in the run, 2 probe failures only, 3 a kill in an earlier run
	policy   corev1.RestartPolicy
	probes   int  // 0 none, 1 liveness only, 2 liveness and readiness the same
	ready    bool // the pod was Ready (it started, then stopped answering)
	log      string
}

var orderNow = time.Date(2026, 12, 5, 3, 15, 0, 0, time.UTC)

func (o orderCase) input() Input {
	end := orderNow.Add(-30 * time.Second)
	start := end.Add(-o.run)
	term := &corev1.ContainerStateTerminated{ExitCode: o.code, Reason: o.reason, StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(end)}
	if o.reason == "StartError" {
		term.StartedAt = metav1.NewTime(time.Unix(0, 0))
		term.Message = "failed to create containerd task: exec: \"/app/server\": exec format error"
	}
	cs := corev1.ContainerStatus{Name: "app", RestartCount: o.restarts}
	switch o.state {
	case 0:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=app pod=p_ns(1)"}
		cs.LastTerminationState.Terminated = term
	case 1:
		cs.State.Terminated = term
	default:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(end.Add(10 * time.Second))}
		cs.LastTerminationState.Terminated = term
	}
	c := corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}
	if o.probes >= 1 {
		c.LivenessProbe = probe
	}
	if o.probes == 2 {
		c.ReadinessProbe = probe
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", CreationTimestamp: metav1.NewTime(orderNow.Add(-time.Hour))},
		Spec:   corev1.PodSpec{RestartPolicy: o.policy, Containers: []corev1.Container{c}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{cs}}}
	if o.ready {
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(start.Add(5 * time.Second))}}
	}
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p", FieldPath: "spec.containers{app}"}
	event := func(reason, msg string, at time.Time) corev1.Event {
		return corev1.Event{InvolvedObject: ref, Reason: reason, Message: msg, Type: "Warning", FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at)}
	}
	var events []corev1.Event
	switch o.events {
	case 1:
		events = append(events, event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", end.Add(-3*time.Second)),
			event("Killing", "Container app failed liveness probe, will be restarted", end.Add(-time.Second)))
	case 2:
		events = append(events, event("Unhealthy", "Liveness probe failed: Get \"http://10.244.0.5:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", end.Add(-2*time.Second)))
	case 3:
		events = append(events, event("Killing", "Container app failed liveness probe, will be restarted", start.Add(-time.Hour)))
	}
	if o.restarts > 0 {
		events = append(events, event("BackOff", "Back-off restarting failed container app in pod p_ns(1)", end.Add(5*time.Second)))
	}
	return Input{Pod: pod, Events: events, PreviousLog: o.log, Now: orderNow}
}

// orderLogs are the logs the property draws from: none, a log without an
// error, a log whose only lead is an error line, every realistic log of
// testdata/signatures, and a log that names two causes.
func orderLogs(t testing.TB) []string {
	logs := []string{"", "starting\nlistening on :8080\n", "starting\nerror: something went wrong\n",
		"WARN dial tcp 10.0.0.1:5432: connect: connection refused\nopen /data/x: no space left on device\nERROR shutting down\n"}
	files, _ := filepath.Glob(filepath.Join("testdata", "signatures", "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, string(b))
	}
	return logs
}

// checkOrder is the property: a failing container's first finding says why
// it stopped or cannot start, and no consequence comes before such a
// finding; a healthy one is reported as not crashing first.
func checkOrder(t testing.TB, o orderCase, r Report) {
	t.Helper()
	if len(r.Findings) == 0 {
		t.Fatalf("%+v: no findings", o)
	}
	if !r.Crashing {
		if r.Findings[0].ID != FindingNotCrashing {
			t.Fatalf("%+v: not crashing, but the first finding is %s", o, r.Findings[0].ID)
		}
		return
	}
	ids := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		ids[i] = f.ID
	}
	if !explainsStop(r.Findings[0]) {
		t.Fatalf("code %d reason %q run %s state %d events %d policy %q probes %d log %.60q: first finding %s does not say why it stopped (%v)",
			o.code, o.reason, o.run, o.state, o.events, o.policy, o.probes, o.log, ids[0], ids)
	}
	for _, id := range consequences {
		if i := slices.Index(ids, id); i == 0 {
			t.Fatalf("%+v: consequence %s first (%v)", o, id, ids)
		}
	}
}

// TestConsequencesNeverFirst runs the property over every exit code, with
// each termination reason, and a seeded draw of run lengths, states,
// events, restart policies, probes and logs.
func TestConsequencesNeverFirst(t *testing.T) {
	logs := orderLogs(t)
	rng := rand.New(rand.NewPCG(32, 2026))
	reasons := []string{"Error", "OOMKilled", "Completed", "StartError", "ContainerCannotRun", ""}
	runs := []time.Duration{0, 2 * time.Second, 45 * time.Second, 7 * time.Minute, 30 * time.Minute}
	policies := []corev1.RestartPolicy{"", corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	n := 0
	for code := int32(0); code < 256; code++ {
		for _, reason := range reasons {
			for range 2 {
				o := orderCase{code: code, reason: reason, run: runs[rng.IntN(len(runs))], restarts: []int32{0, 1, 6}[rng.IntN(3)],
					state: rng.IntN(3), events: rng.IntN(4), policy: policies[rng.IntN(len(policies))], probes: rng.IntN(3),
					ready: rng.IntN(2) == 0, log: logs[rng.IntN(len(logs))]}
				checkOrder(t, o, Diagnose(o.input()))
				n++
			}
		}
	}
	t.Logf("%d generated containers", n)
}

// FuzzDiagnoseOrder holds the same property over inputs the fuzzer
// chooses: go test -fuzz FuzzDiagnoseOrder ./diagnose.
func FuzzDiagnoseOrder(f *testing.F) {
	for i, l := range orderLogs(f) {
		f.Add(uint8(i%256), uint8(i), uint16(i*37), l)
	}
	f.Add(uint8(143), uint8(0x55), uint16(400), "")
	f.Fuzz(func(t *testing.T, code, flags uint8, runSecs uint16, log string) {
		reasons := []string{"Error", "OOMKilled", "Completed", "StartError"}
		policies := []corev1.RestartPolicy{"", corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
		o := orderCase{code: int32(code), reason: reasons[flags&3], run: time.Duration(runSecs) * time.Second,
			restarts: int32(flags>>2&3) * 3, state: int(flags>>4&3) % 3, events: int(flags >> 6), policy: policies[(flags>>1)&3],
			probes: int(flags>>3&3) % 3, log: log}
		r := Diagnose(o.input())
		checkOrder(t, o, r)
		if c := r.Cause(); strings.ContainsAny(c, "\n") {
			t.Fatalf("CAUSE %q spans lines", c)
		}
		_ = fmt.Sprint(r.Findings)
	})
}

// TestCategoryFollowsEvidence: the category is decided by the evidence,
// both ways for each rule of doc.go.
func TestCategoryFollowsEvidence(t *testing.T) {
	logOf := func(line string) string {
		return "starting\nloading settings\nconnecting\n" + line + "\nshutting down\n"
	}
	tests := []struct {
		name, log, finding, category string
	}{
		{"a missing config file is configuration", logOf("open /etc/orders/settings.toml: no such file or directory"), FindingMissingFile, CategoryConfiguration},
		{"a missing certificate is configuration", logOf("FileNotFoundError: [Errno 2] No such file or directory: '/certs/client.pem'"), FindingMissingFile, CategoryConfiguration},
		{"a missing code file is application", logOf("python: can't open file '/app/worker/main.py': [Errno 2] No such file or directory"), FindingMissingFile, CategoryApplication},
		{"a rejected credential is configuration", logOf(`pq: password authentication failed for user "orders"`), FindingCredentialsRejected, CategoryConfiguration},
		{"a rejected certificate is configuration", logOf("x509: certificate has expired or is not yet valid: current time 2026-12-05T03:12:44Z is after 2026-11-30T00:00:00Z"), FindingTLSRejected, CategoryConfiguration},
		{"a full disk is resources", logOf("write /data/wal/0001.log: no space left on device"), FindingDiskFull, CategoryResources},
		{"exhausted file handles are resources", logOf("accept tcp [::]:8080: accept4: too many open files"), FindingFileHandlesExhausted, CategoryResources},
		{"a dependency that is down is environment", logOf("dial tcp 10.96.0.7:6379: connect: connection refused"), FindingDependencyUnreachable, CategoryEnvironment},
		{"a bug is application", logOf("panic: runtime error: index out of range [3] with length 3"), FindingCodeBug, CategoryApplication},
		{"a heap cap of the app's own is application", logOf("java.lang.OutOfMemoryError: Java heap space"), FindingAppOutOfMemory, CategoryApplication},
		{"memory the system refused is resources", logOf("fatal error: runtime: out of memory"), FindingAppOutOfMemory, CategoryResources},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Diagnose(Input{Pod: crashedPod(1), PreviousLog: tc.log, Now: orderNow})
			if f := r.Findings[0]; f.ID != tc.finding || f.Category != tc.category {
				t.Errorf("top finding %s (%s), want %s (%s): %s", f.ID, f.Category, tc.finding, tc.category, f.Verdict)
			}
		})
	}
	// A probe kill: configuration when the probe is wrong for the app (here
	// liveness is readiness), application when it is sound and the app
	// stopped answering; the log says why when it can.
	for _, tc := range []struct {
		probes   int
		log      string
		category string
		says     string
	}{
		{2, "", CategoryConfiguration, "The probe is wrong for this app"},
		{1, "", CategoryApplication, "stopped answering it"},
		{1, logOf("accept tcp [::]:8080: accept4: too many open files"), CategoryApplication, "too many open files"},
	} {
		o := orderCase{code: 137, reason: "Error", run: 40 * time.Second, restarts: 3, events: 1, policy: corev1.RestartPolicyAlways, probes: tc.probes,
			ready: tc.probes == 1, log: tc.log}
		r := Diagnose(o.input())
		k := r.Findings[0]
		if k.ID != FindingLivenessKill || k.Category != tc.category || !strings.Contains(k.Verdict, tc.says) {
			t.Errorf("probes %d: %s (%s) %q, want liveness-kill (%s) saying %q", tc.probes, k.ID, k.Category, k.Verdict, tc.category, tc.says)
		}
	}
}
