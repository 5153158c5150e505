package monitor

import (
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/lint"
)

// TestDeployManifestsLint: what a user applies passes crashlens's own lint
// (the base, the operator overlay, the demo overlay: no error, no warning).
func TestDeployManifestsLint(t *testing.T) {
	rs, err := lint.Linter{}.Paths([]string{"../deploy/base", "../deploy/prometheus-operator", "../deploy/demo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Severity == diagnose.SeverityError || r.Severity == diagnose.SeverityWarning {
			t.Errorf("%s:%d %s %s: %s", r.File, r.Line, r.Severity, r.ID, r.Message)
		}
	}
	if len(rs) == 0 {
		t.Fatal("lint read nothing in deploy/")
	}
}

// TestAlertsCarryTheRulebooksFix: each alert by cause says the fix the
// rulebook gives for that finding, word for word, so the page and the TUI
// agree.
func TestAlertsCarryTheRulebooksFix(t *testing.T) {
	raw, err := os.ReadFile("../deploy/prometheus-operator/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules := strings.ReplaceAll(string(raw), "''", "'") // YAML's quoted quote
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	pod := func(code int32, reason string, probes ...*corev1.Probe) *corev1.Pod {
		grace := int64(30)
		c := corev1.Container{Name: "app", Image: "img", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}
		if len(probes) >= 2 {
			c.LivenessProbe, c.ReadinessProbe = probes[0], probes[1]
		}
		if len(probes) == 3 {
			c.StartupProbe = probes[2]
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
			Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{c}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 3,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
					StartedAt: metav1.NewTime(t0.Add(-20 * time.Second)), FinishedAt: metav1.NewTime(t0)}}}}}}
	}
	killing := corev1.Event{Reason: "Killing", Type: "Normal", Count: 1, Message: "Container app failed liveness probe, will be restarted",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p", FieldPath: "spec.containers{app}"},
		FirstTimestamp: metav1.NewTime(t0.Add(-time.Second)), LastTimestamp: metav1.NewTime(t0.Add(-time.Second))}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 3}
	}
	startup := probe("/healthz")
	startup.PeriodSeconds, startup.FailureThreshold = 1, 30
	for _, tc := range []struct {
		alert, finding string
		in             diagnose.Input
	}{
		{"CrashlensOOMKilled", diagnose.FindingOOMKilled, diagnose.Input{Pod: pod(137, "OOMKilled"), Container: "app", Now: t0.Add(5 * time.Second)}},
		// Liveness on the readiness endpoint: the probe's fault.
		{"CrashlensLivenessKilledProbeWrong", diagnose.FindingLivenessKill, diagnose.Input{Pod: pod(143, "Error", probe("/readyz"), probe("/readyz")),
			Container: "app", Events: []corev1.Event{killing}, Now: t0.Add(5 * time.Second)}},
		// The house template's probes: the app's.
		{"CrashlensLivenessKilledAppStalled", diagnose.FindingLivenessKill, diagnose.Input{Pod: pod(143, "Error", probe("/healthz"), probe("/readyz"), startup),
			Container: "app", Events: []corev1.Event{killing}, Now: t0.Add(5 * time.Second)}},
	} {
		var fix string
		for _, f := range diagnose.Diagnose(tc.in).Findings {
			if f.ID == tc.finding {
				fix = f.Fix.Text
			}
		}
		if fix == "" {
			t.Fatalf("%s: the rulebook found no %s", tc.alert, tc.finding)
		}
		i := strings.Index(rules, "alert: "+tc.alert+"\n")
		if i < 0 {
			t.Fatalf("no alert %s", tc.alert)
		}
		rule := rules[i:]
		if j := strings.Index(rule[1:], "- alert:"); j >= 0 {
			rule = rule[:j+1]
		}
		if !strings.Contains(rule, "Fix: "+fix) {
			t.Errorf("%s does not carry the rulebook's fix %q", tc.alert, fix)
		}
		if !strings.Contains(rule, "runbook_url: https://github.com/crashlens/crashlens#run-the-recorder-in-your-cluster") {
			t.Errorf("%s has no runbook link to the README section", tc.alert)
		}
	}
}
