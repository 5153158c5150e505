package diagnose

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// fixture is one scenario recorded from the real cluster by demo/record.
type fixture struct {
	name string
	in   Input
}

// logsGone is the text the kubelet returns instead of a log it no longer has.
const logsGone = "unable to retrieve container logs"

func loadFixture(t *testing.T, dir string) fixture {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return b
	}
	var pod corev1.Pod
	if err := json.Unmarshal(read("pod.json"), &pod); err != nil {
		t.Fatalf("%s/pod.json: %v", dir, err)
	}
	var events corev1.EventList
	if err := json.Unmarshal(read("events.json"), &events); err != nil {
		t.Fatalf("%s/events.json: %v", dir, err)
	}
	var scenario struct {
		Container  string
		RecordedAt time.Time // when demo/record read it (older recordings lack it)
	}
	if err := json.Unmarshal(read("scenario.json"), &scenario); err != nil {
		t.Fatal(err)
	}
	in := Input{Pod: &pod, Container: scenario.Container, Events: events.Items}
	in.PreviousLog = string(read("previous.log"))
	if e := read("previous.error"); len(e) > 0 {
		in.PreviousLogErr = strings.TrimSpace(string(e))
	}
	if strings.HasPrefix(in.PreviousLog, logsGone) {
		in.PreviousLog, in.PreviousLogErr = "", strings.TrimSpace(in.PreviousLog)
	}
	var owners struct{ Items []json.RawMessage }
	if err := json.Unmarshal(read("owners.json"), &owners); err != nil {
		t.Fatal(err)
	}
	for _, raw := range owners.Items {
		var meta struct{ Kind string }
		_ = json.Unmarshal(raw, &meta)
		switch meta.Kind {
		case "Deployment":
			in.Deployment = &appsv1.Deployment{}
			if err := json.Unmarshal(raw, in.Deployment); err != nil {
				t.Fatal(err)
			}
		case "ReplicaSet":
			var rs appsv1.ReplicaSet
			if err := json.Unmarshal(raw, &rs); err != nil {
				t.Fatal(err)
			}
			in.ReplicaSets = append(in.ReplicaSets, rs)
		case "Job":
			in.Job = &batchv1.Job{}
			if err := json.Unmarshal(raw, in.Job); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ref := range pod.OwnerReferences {
		in.OwnerChain = append(in.OwnerChain, ref.Kind+"/"+ref.Name)
	}
	if in.Deployment != nil {
		in.OwnerChain = append(in.OwnerChain, "Deployment/"+in.Deployment.Name)
	}
	var kubelet struct {
		KubeletConfig struct {
			CrashLoopBackOff struct{ MaxContainerRestartPeriod string }
		}
	}
	if b := read("kubelet.json"); len(b) > 0 {
		if err := json.Unmarshal(b, &kubelet); err != nil {
			t.Fatal(err)
		}
		if d, err := time.ParseDuration(kubelet.KubeletConfig.CrashLoopBackOff.MaxContainerRestartPeriod); err == nil {
			in.BackoffCap = d
		}
	}
	in.Now = latest(&pod, events.Items).Add(time.Second)
	if in.Now.Before(scenario.RecordedAt) {
		// A pod judged by the clock (an init step that runs on) is judged
		// when it was recorded, not at its last change.
		in.Now = scenario.RecordedAt
	}
	return fixture{name: filepath.Base(dir), in: in}
}

// latest is the newest timestamp in the recording: the reports are made as
// of just after it, so they do not change with the day the test runs.
func latest(pod *corev1.Pod, events []corev1.Event) time.Time {
	var t time.Time
	bump := func(x time.Time) {
		if x.After(t) {
			t = x
		}
	}
	for i := range events {
		_, last := EventTimes(&events[i])
		bump(last)
	}
	for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
		if r := cs.State.Running; r != nil {
			bump(r.StartedAt.Time)
		}
		if term := lastTermination(cs); term != nil {
			bump(term.FinishedAt.Time)
		}
	}
	return t
}

func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	dirs, err := filepath.Glob("testdata/*/pod.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no recorded scenarios in testdata (go run ./demo/record): %v", err)
	}
	out := map[string]fixture{}
	for _, d := range dirs {
		f := loadFixture(t, filepath.Dir(d))
		out[f.name] = f
	}
	return out
}

// TestRecordedScenarios runs Diagnose on every scenario recorded from the
// real cluster: the top finding and its category (a probe kill is
// configuration when a probe finding says the probe is wrong, application
// when the probe is sound and the app stopped answering it), findings that must (or
// must not) be in the report, and a golden report per scenario.
func TestRecordedScenarios(t *testing.T) {
	fixtures := loadFixtures(t)
	tests := []struct {
		scenario string
		top      string
		category string
		crashing bool
		contains []string
		excludes []string
		killer   string
	}{
		{"probe-mixup-bad", FindingLivenessKill, CategoryConfiguration, true,
			[]string{FindingLivenessSharesReadiness, FindingLivenessChecksDeps, FindingNoStartupForSlowStart, FindingGracePeriodKill}, []string{FindingOOMKilled}, KillerGracePeriod},
		{"probe-mixup-good", FindingNotCrashing, CategoryApplication, false, nil,
			[]string{FindingLivenessSharesReadiness, FindingLivenessChecksDeps, FindingNoStartupForSlowStart, FindingLivenessBudgetShort, FindingProbeTimeoutTight, FindingLivenessNoReadiness, FindingProbePortNotDeclared}, ""},
		{"liveness-without-readiness", FindingLivenessKill, CategoryApplication, true, []string{FindingLivenessNoReadiness}, nil, ""},
		{"missing-script", FindingMissingFile, CategoryApplication, true, nil, []string{FindingAppErrorExit}, KillerApplication},
		{"oomkilled", FindingOOMKilled, CategoryResources, true, nil, nil, KillerOOM},
		{"backoff-never-resets", FindingExternalKill, CategoryEnvironment, true, []string{FindingBackoffNeverResets}, []string{FindingOOMKilled}, KillerOutside},
		{"missing-configmap-key", FindingConfigRefMissing, CategoryConfiguration, true, nil, nil, ""},
		{"missing-secret", FindingConfigRefMissing, CategoryConfiguration, true, nil, nil, ""},
		{"missing-volume", FindingMountFailed, CategoryConfiguration, true, nil, nil, ""},
		{"image-pull", FindingImagePullFailed, CategoryConfiguration, true, nil, nil, ""},
		{"dependency-refused", FindingDependencyUnreachable, CategoryEnvironment, true, nil, nil, KillerApplication},
		{"permission-denied", FindingPermissionDenied, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"command-not-found", FindingCommandNotFound, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"not-executable", FindingNotExecutable, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"segfault", FindingSegfault, CategoryApplication, true, nil, nil, KillerApplication},
		{"sigterm-ignored", FindingLivenessKill, CategoryApplication, true, []string{FindingGracePeriodKill}, []string{FindingOOMKilled, FindingExternalKill}, KillerGracePeriod},
		{"init-crashloop", FindingInitContainerFailing, CategoryApplication, true, nil, nil, KillerApplication},
		{"exit-zero", FindingExitZeroUnderAlways, CategoryConfiguration, true, nil, nil, KillerCompleted},
		{"rollout-regression", FindingRolloutRegression, CategoryConfiguration, true, []string{FindingConfigError}, nil, KillerApplication},
		{"healthy", FindingNotCrashing, CategoryApplication, false, nil, nil, ""},
		{"healthy-job", FindingNotCrashing, CategoryApplication, false, nil, []string{FindingExitZeroUnderAlways}, KillerCompleted},
		// The accuracy classes (issue 14).
		{"app-oom-jvm", FindingAppOutOfMemory, CategoryApplication, true, nil, []string{FindingOOMKilled}, KillerApplication},
		{"app-oom-node", FindingAppOutOfMemory, CategoryApplication, true, nil, []string{FindingOOMKilled, FindingAbort}, KillerApplication},
		{"app-oom-go", FindingAppOutOfMemory, CategoryResources, true, nil, []string{FindingOOMKilled}, KillerApplication},
		{"app-oom-python", FindingAppOutOfMemory, CategoryResources, true, nil, []string{FindingOOMKilled}, KillerApplication},
		{"app-oom-dotnet", FindingAppOutOfMemory, CategoryResources, true, nil, []string{FindingOOMKilled, FindingAbort}, KillerApplication},
		{"probe-kill-exit-zero", FindingLivenessKill, CategoryConfiguration, true, nil, []string{FindingExitZeroUnderAlways, FindingAppErrorExit}, KillerLiveness},
		{"probe-kill-exit-handler", FindingLivenessKill, CategoryApplication, true, nil, []string{FindingExitZeroUnderAlways, FindingAppErrorExit}, KillerLiveness},
		{"run-30s-exit", FindingAppErrorExit, CategoryApplication, true, []string{FindingBackoffNeverResets}, nil, KillerApplication},
		{"run-45s-exit", FindingAppErrorExit, CategoryApplication, true, []string{FindingBackoffNeverResets}, nil, KillerApplication},
		{"missing-file-configmap", FindingMissingFile, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"missing-file-secret", FindingMissingFile, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"missing-file-image", FindingMissingFile, CategoryApplication, true, nil, nil, KillerApplication},
		{"outside-kill-2s", FindingExternalKill, CategoryEnvironment, true, []string{FindingBackoffNeverResets}, []string{FindingOOMKilled}, KillerOutside},
		{"outside-kill-20s", FindingExternalKill, CategoryEnvironment, true, []string{FindingBackoffNeverResets}, []string{FindingOOMKilled}, KillerOutside},
		{"healthy-shared-probes", FindingNotCrashing, CategoryApplication, false, []string{FindingLivenessSharesReadiness}, nil, ""},
		{"healthy-named-port-probes", FindingNotCrashing, CategoryApplication, false, []string{FindingLivenessSharesReadiness}, nil, ""},
		// The diagnosis-breadth classes: the log's cause line decides.
		{"disk-full", FindingDiskFull, CategoryResources, true, nil, []string{FindingAppErrorExit}, KillerApplication},
		{"file-handles", FindingFileHandlesExhausted, CategoryResources, true, nil, []string{FindingAppErrorExit}, KillerApplication},
		{"code-bug", FindingCodeBug, CategoryApplication, true, nil, []string{FindingAppErrorExit}, KillerApplication},
		{"tls-unknown-authority", FindingTLSRejected, CategoryConfiguration, true, nil, []string{FindingDependencyUnreachable}, KillerApplication},
		{"exec-format", FindingImageIncompatible, CategoryConfiguration, true, nil, []string{FindingAppErrorExit}, KillerApplication},
		{"credentials-rejected", FindingCredentialsRejected, CategoryConfiguration, true, nil, []string{FindingDependencyUnreachable}, KillerApplication},
		{"missing-library", FindingMissingLibrary, CategoryApplication, true, nil, []string{FindingCommandNotFound, FindingMissingFile}, KillerApplication},
		{"threads-exhausted", FindingThreadsExhausted, CategoryResources, true, nil, []string{FindingAppOutOfMemory}, KillerApplication},
		{"database-missing", FindingDatabaseMissing, CategoryConfiguration, true, nil, nil, KillerApplication},
		{"dependency-overloaded", FindingDependencyOverloaded, CategoryEnvironment, true, nil, nil, KillerApplication},
		{"api-forbidden", FindingAPIForbidden, CategoryConfiguration, true, nil, []string{FindingPermissionDenied}, KillerApplication},
		{"script-crlf", FindingScriptCRLF, CategoryApplication, true, nil, []string{FindingNotExecutable, FindingMissingFile}, KillerApplication},
		{"privileged-port", FindingPrivilegedPort, CategoryConfiguration, true, nil, []string{FindingPermissionDenied}, KillerApplication},
		// Today's pod model.
		{"sidecar-crashloop", FindingDependencyUnreachable, CategoryEnvironment, true, []string{FindingSidecarCrash}, []string{FindingAppErrorExit}, KillerApplication},
		{"restart-rule-retried", FindingAppErrorExit, CategoryApplication, true, []string{FindingRestartRule}, nil, KillerApplication},
		{"restart-rule-terminal", FindingAppErrorExit, CategoryApplication, true, []string{FindingRestartRule}, []string{FindingBackoffNeverResets}, KillerApplication},
		{"init-never-finishes", FindingInitStuck, CategoryEnvironment, true, nil, []string{FindingInitContainerFailing}, ""},
		{"job-backoff-limit", FindingMissingFile, CategoryConfiguration, true, []string{FindingJobFailing}, []string{FindingBackoffNeverResets}, KillerApplication},
		{"cronjob-runs-fail", FindingReadOnlyFS, CategoryConfiguration, true, []string{FindingJobFailing}, []string{FindingPermissionDenied}, KillerApplication},
		{"whole-pod-restart", FindingCauseUnknown, CategoryApplication, true, []string{FindingRestartRule}, []string{FindingBackoffNeverResets, FindingExternalKill}, KillerPodRestart},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.scenario] = true
		t.Run(tc.scenario, func(t *testing.T) {
			f, ok := fixtures[tc.scenario]
			if !ok {
				t.Fatalf("no recording for %s in testdata", tc.scenario)
			}
			r := Diagnose(f.in)
			if len(r.Findings) == 0 {
				t.Fatal("no findings")
			}
			ids := make([]string, len(r.Findings))
			for i, x := range r.Findings {
				ids[i] = x.ID
			}
			if r.Findings[0].ID != tc.top || r.Findings[0].Category != tc.category {
				t.Errorf("top finding %s (%s), want %s (%s); all: %v", r.Findings[0].ID, r.Findings[0].Category, tc.top, tc.category, ids)
			}
			if r.Crashing != tc.crashing {
				t.Errorf("crashing=%v, want %v (state %s)", r.Crashing, tc.crashing, r.State)
			}
			for _, id := range tc.contains {
				if !slices.Contains(ids, id) {
					t.Errorf("report lacks %s; has %v", id, ids)
				}
			}
			for _, id := range tc.excludes {
				if slices.Contains(ids, id) {
					t.Errorf("report has %s; it should not: %v", id, ids)
				}
			}
			if tc.killer != "" && (r.Exit == nil || r.Exit.Killer != tc.killer) {
				t.Errorf("exit %+v, want killer %s", r.Exit, tc.killer)
			}
			for _, x := range r.Findings {
				if x.Verdict == "" || (x.Severity != SeverityInfo && x.Fix.Text == "") {
					t.Errorf("finding %s lacks a verdict or a fix", x.ID)
				}
			}
			golden(t, filepath.Join("testdata", tc.scenario, "report.golden.json"), r)
		})
	}
	for name := range fixtures {
		if !seen[name] {
			t.Errorf("recorded scenario %s has no expectations in this test", name)
		}
	}
}

func golden(t *testing.T, path string, r Report) {
	t.Helper()
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, path, string(append(got, '\n')))
}

// goldenText compares got with the file at path (-update rewrites it).
func goldenText(t *testing.T, path string, text string) {
	t.Helper()
	got := []byte(text)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diagnose -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./diagnose -update, then review the diff)", path)
	}
}
