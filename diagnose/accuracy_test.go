package diagnose

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestAppOutOfMemoryIsNotAnOOMKill: a runtime that reports running out of
// memory and exits by itself gets app-out-of-memory with its own setting in
// the fix; oom-killed is only ever a termination reason of OOMKilled, and
// the exit pane says the same as the finding.
func TestAppOutOfMemoryIsNotAnOOMKill(t *testing.T) {
	tests := []struct {
		runtime, line, category, setting string
	}{
		{"JVM heap", `Exception in thread "main" java.lang.OutOfMemoryError: Java heap space`, CategoryApplication, "-Xmx"},
		{"JVM metaspace", `java.lang.OutOfMemoryError: Metaspace`, CategoryApplication, "MaxMetaspaceSize"},
		{"Node.js", `FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`, CategoryApplication, "--max-old-space-size"},
		{"Go", `fatal error: runtime: out of memory`, CategoryResources, "GOMEMLIMIT"},
		{"Python", `MemoryError`, CategoryResources, "memory limit"},
		{".NET", `Unhandled exception. System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.`, CategoryResources, "GCHeapHardLimit"},
	}
	for _, tc := range tests {
		t.Run(tc.runtime, func(t *testing.T) {
			pod := podWith(corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: at(0), FinishedAt: at(40)}, "", 30)
			pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
			r := Diagnose(Input{Pod: pod, PreviousLog: "starting\n" + tc.line + "\n", Now: t0.Add(60e9)})
			top := r.Findings[0]
			if top.ID != FindingAppOutOfMemory || top.Category != tc.category {
				t.Fatalf("top %s (%s), want %s (%s): %v", top.ID, top.Category, FindingAppOutOfMemory, tc.category, ids(r))
			}
			if slices.Contains(ids(r), FindingOOMKilled) {
				t.Errorf("oom-killed without OOMKilled: %v", ids(r))
			}
			if !strings.Contains(top.Fix.Text, tc.setting) || !strings.Contains(top.Fix.Text, "256Mi") {
				t.Errorf("fix %q names neither %s nor the limit", top.Fix.Text, tc.setting)
			}
			for _, f := range r.Findings {
				if strings.Contains(f.Verdict, "kernel") {
					t.Errorf("%s says the kernel killed it: %s", f.ID, f.Verdict)
				}
			}
			if r.Exit.Killer != KillerApplication || !strings.Contains(r.Exit.Explanation, "not an OOM kill") {
				t.Errorf("exit pane: %s, %q", r.Exit.Killer, r.Exit.Explanation)
			}
		})
	}
}

// TestExitAfterAKillIsTheKill: whatever code the app returns after the
// kubelet's Killing event for that instance, the kill explains it, never
// the app's own decision.
func TestExitAfterAKillIsTheKill(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int32
		events []corev1.Event
	}{
		{"exit 0 from a SIGTERM handler", 0, []corev1.Event{killing(30, "liveness")}},
		{"exit 2 from a SIGTERM handler", 2, []corev1.Event{killing(30, "liveness")}},
		{"exit 143", 143, []corev1.Event{killing(30, "liveness")}},
		{"exit 0, the event budget spent", 0, []corev1.Event{killing(-300, "liveness")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(corev1.ContainerStateTerminated{ExitCode: tc.code, Reason: "Error", StartedAt: at(0), FinishedAt: at(32)}, corev1.RestartPolicyAlways, 30)
			r := Diagnose(Input{Pod: pod, Events: tc.events, Now: t0.Add(60e9)})
			if r.Findings[0].ID != FindingLivenessKill {
				t.Errorf("top %s, want liveness-kill: %v", r.Findings[0].ID, ids(r))
			}
			for _, bad := range []string{FindingExitZeroUnderAlways, FindingAppErrorExit, FindingConfigError} {
				if slices.Contains(ids(r), bad) {
					t.Errorf("the exit is explained as the app's own decision (%s): %v", bad, ids(r))
				}
			}
		})
	}
}

// TestHealthyFirst: a running, ready container with no restarts is reported
// as not crashing first; probe advice follows as info.
func TestHealthyFirst(t *testing.T) {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(8080)}}}
	pod := podWith(corev1.ContainerStateTerminated{}, "", 30)
	pod.Spec.Containers[0].LivenessProbe, pod.Spec.Containers[0].ReadinessProbe = probe, probe
	pod.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(0)}}}
	r := Diagnose(Input{Pod: pod, Now: t0.Add(3600e9)})
	if r.Crashing || r.Findings[0].ID != FindingNotCrashing {
		t.Fatalf("crashing=%v, findings %v", r.Crashing, ids(r))
	}
	if !slices.Contains(ids(r), FindingLivenessSharesReadiness) {
		t.Errorf("the shared endpoint is not mentioned: %v", ids(r))
	}
	for _, f := range r.Findings {
		if f.Severity != SeverityInfo {
			t.Errorf("%s is %s on a healthy pod", f.ID, f.Severity)
		}
	}
}

// TestMissingFileCategory: a missing file under a volume mount is expected
// from that volume (configuration); elsewhere it is missing from the image
// (application).
func TestMissingFileCategory(t *testing.T) {
	for _, tc := range []struct {
		name, line, category, says string
	}{
		{"from a ConfigMap mount", "open /etc/orders/config.yaml: no such file or directory", CategoryConfiguration, "ConfigMap orders-config"},
		{"from the image", "open /app/templates/invoice.tmpl: no such file or directory", CategoryApplication, "missing from the image"},
		{"a developer's path", "sh: /Users/me/bin/run.sh: no such file or directory", CategoryApplication, "missing from the image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: at(0), FinishedAt: at(1)}, "", 30)
			pod.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "orders-config"}}}}}
			pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/orders"}}
			r := Diagnose(Input{Pod: pod, PreviousLog: tc.line + "\n", Now: t0.Add(60e9)})
			top := r.Findings[0]
			if top.ID != FindingMissingFile || top.Category != tc.category || !strings.Contains(top.Verdict+top.Fix.Text, tc.says) {
				t.Errorf("top %s (%s): %s / %s; want %s saying %q", top.ID, top.Category, top.Verdict, top.Fix.Text, tc.category, tc.says)
			}
		})
	}
}

// TestReadOnlyFileSystem: a write refused with EROFS names what made the
// file system read-only: the container's readOnlyRootFilesystem, or the
// volume mounted read-only at the path, or neither (then the generic fix).
func TestReadOnlyFileSystem(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name, line string
		rootRO     bool
		says, fix  string
	}{
		{"busybox sh, readOnlyRootFilesystem", "sh: can't create /tmp/usage.csv: Read-only file system", true,
			"root file system, which the container's securityContext makes read-only", "Mount an emptyDir at /tmp"},
		{"Go, under a ConfigMap mount", "open /etc/orders/cache.db: read-only file system", true,
			"under volume config mounted read-only at /etc/orders", "ConfigMap, Secret and projected volumes never are"},
		{"CPython, nothing in the spec says why", "OSError: [Errno 30] Read-only file system: '/data/out.parquet'", false,
			"writes to a read-only file system", "Mount a writable volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: at(0), FinishedAt: at(1)}, "", 30)
			pod.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "orders-config"}}}}}
			pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/orders"}}
			if tc.rootRO {
				pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: &yes}
			}
			r := Diagnose(Input{Pod: pod, PreviousLog: "starting\n" + tc.line + "\n", Now: t0.Add(60e9)})
			top := r.Findings[0]
			if top.ID != FindingReadOnlyFS || top.Category != CategoryConfiguration || !strings.Contains(top.Verdict, tc.says) || !strings.Contains(top.Fix.Text, tc.fix) {
				t.Errorf("top %s (%s): %s / %s; want it to say %q and %q", top.ID, top.Category, top.Verdict, top.Fix.Text, tc.says, tc.fix)
			}
			if !strings.HasPrefix(r.Cause(), "read-only filesystem /") {
				t.Errorf("cause %q", r.Cause())
			}
		})
	}
}

// TestProbeIdentityResolvesPorts: probes compare after named ports and the
// API's defaults are resolved.
func TestProbeIdentityResolvesPorts(t *testing.T) {
	tcp := func(port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, PeriodSeconds: 10}
	}
	http := func(port intstr.IntOrString, scheme corev1.URIScheme) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: port, Scheme: scheme}}}
	}
	withDefaults := tcp(intstr.FromInt(6379))
	withDefaults.PeriodSeconds = 0 // the API's default is 10
	for _, tc := range []struct {
		name        string
		live, ready *corev1.Probe
		want        string // severity of probe-liveness-shares-readiness, "" for none
	}{
		{"tcp named vs numbered, same timing", tcp(intstr.FromString("resp")), tcp(intstr.FromInt(6379)), SeverityError},
		{"tcp, defaults spelled out or not", tcp(intstr.FromString("resp")), withDefaults, SeverityError},
		{"http named vs numbered", http(intstr.FromString("resp"), ""), http(intstr.FromInt(6379), corev1.URISchemeHTTP), SeverityError},
		{"http vs https are different probes", http(intstr.FromInt(6379), corev1.URISchemeHTTPS), http(intstr.FromInt(6379), ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Name: "redis", Ports: []corev1.ContainerPort{{Name: "resp", ContainerPort: 6379}},
				LivenessProbe: tc.live, ReadinessProbe: tc.ready}
			got := ""
			for _, f := range LintContainer(c) {
				if f.ID == FindingLivenessSharesReadiness {
					got = f.Severity
				}
			}
			if got != tc.want {
				t.Errorf("shares-readiness %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRecordedForbiddenIDs: over every recording, findings never contradict
// the status: no oom-killed unless a termination reason is OOMKilled, no
// exit-zero-under-restart-always after a probe kill, the cause first.
func TestRecordedForbiddenIDs(t *testing.T) {
	for name, fx := range loadFixtures(t) {
		r := Diagnose(fx.in)
		oom := false
		for _, cs := range append(fx.in.Pod.Status.InitContainerStatuses, fx.in.Pod.Status.ContainerStatuses...) {
			for _, term := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				oom = oom || (term != nil && term.Reason == "OOMKilled")
			}
		}
		got := ids(r)
		if !oom && slices.Contains(got, FindingOOMKilled) {
			t.Errorf("%s: oom-killed without an OOMKilled termination: %v", name, got)
		}
		if r.Exit != nil && r.Exit.KillEvent != nil && slices.Contains(got, FindingExitZeroUnderAlways) {
			t.Errorf("%s: exit-zero after a kubelet kill: %v", name, got)
		}
		if i := slices.Index(got, FindingBackoffNeverResets); i == 0 && len(got) > 1 {
			t.Errorf("%s: the back-off ranks above its cause: %v", name, got)
		}
		if !r.Crashing && got[0] != FindingNotCrashing {
			t.Errorf("%s: a healthy container leads with %s", name, got[0])
		}
	}
}
