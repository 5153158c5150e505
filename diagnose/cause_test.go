package diagnose

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestCauses: every recording's cause, as the row gives it from the status
// and as the detail's report gives it, in one golden file a reviewer reads
// side by side; neither ever says OOM when the status does not show an
// OOMKilled termination, and a crashing report always has one.
func TestCauses(t *testing.T) {
	fixtures := loadFixtures(t)
	names := make([]string, 0, len(fixtures))
	for name := range fixtures {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		in := fixtures[name].in
		in.Container = ""
		v := Classify(in.Pod, in.Now)
		r := Diagnose(in)
		row, detail := v.Pod.Cause, r.Cause()
		fmt.Fprintf(&b, "%-30s row: %-40q detail: %q\n", name, row, detail)
		oomKilled := strings.TrimPrefix(v.Pod.Reason, "Init:") == "OOMKilled"
		for _, c := range []string{row, detail} {
			if strings.Contains(c, "OOM") && !oomKilled {
				t.Errorf("%s: cause %q names an OOM kill; the termination reason is %q", name, c, v.Pod.Reason)
			}
			if len([]rune(c)) > maxCauseLen {
				t.Errorf("%s: cause %q is longer than %d", name, c, maxCauseLen)
			}
		}
		if r.Crashing && detail == "" {
			t.Errorf("%s: crashing, but the report has no cause", name)
		}
		if v.Failing && row == "" {
			t.Errorf("%s: a failing row without a cause", name)
		}
		if !r.Crashing && detail != "" {
			t.Errorf("%s: not crashing, yet the cause %q", name, detail)
		}
	}
	goldenText(t, filepath.Join("testdata", "causes.golden"), b.String())
}

func TestStatusCause(t *testing.T) {
	for _, tc := range []struct {
		row  CrashPod
		term string // the last termination's message
		want string
	}{
		{CrashPod{State: "CrashLoopBackOff", Reason: "OOMKilled", ExitCode: 137, Signal: "SIGKILL"}, "", "OOM killed"},
		{CrashPod{State: "CrashLoopBackOff", Reason: "Error", ExitCode: 137, Signal: "SIGKILL"}, "", "killed by SIGKILL"},
		{CrashPod{State: "Init:CrashLoopBackOff", Reason: "Init:Error", ExitCode: 1, Message: "back-off 10s restarting failed container"}, "", "app exit 1"},
		{CrashPod{State: "ImagePullBackOff", Reason: "ImagePullBackOff", ExitCode: -1}, "", "image pull failed"},
		{CrashPod{State: "CreateContainerConfigError", Reason: "CreateContainerConfigError", ExitCode: -1, Message: `secret "db" not found`}, "", `config error: secret "db" not found`},
		{CrashPod{State: "CrashLoopBackOff", Reason: "Completed", ExitCode: 0}, "", "exits 0"},
		{CrashPod{State: "ContainerCreating", Reason: "ContainerCreating", ExitCode: -1}, "", "stuck creating (see events)"},
		{CrashPod{State: "CrashLoopBackOff", Reason: "Error", ExitCode: 1}, strings.Repeat("x", 100), "app exit 1: " + strings.Repeat("x", maxCauseLen-13) + "…"},
	} {
		if got := statusCause(tc.row, tc.term); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.row, got, tc.want)
		}
	}
}

// TestExitNeverContradictsCause: the list's EXIT says only what the code
// proves, so it cannot contradict the cause the rulebook finds later: on a
// runtime's own out-of-memory, a liveness kill or a kill from outside, it is
// the number alone or the signal; never "usage error" beside a Go runtime's
// out-of-memory, or "exited normally" beside a kill. Each class names the
// recordings it must check, so a fixture that stops reaching its class (or
// a class that no longer matches anything) fails instead of being skipped.
func TestExitNeverContradictsCause(t *testing.T) {
	classes := []struct {
		name     string
		findings []string // the top findings of the class
		expect   []string // recordings that must be checked in it
	}{
		{"runtime out-of-memory", []string{FindingAppOutOfMemory},
			[]string{"app-oom-dotnet", "app-oom-go", "app-oom-jvm", "app-oom-node", "app-oom-python"}},
		{"liveness kill", []string{FindingLivenessKill, FindingStartupKill},
			[]string{"liveness-without-readiness", "probe-kill-exit-handler", "probe-kill-exit-zero", "probe-mixup-bad", "sigterm-ignored"}},
		{"outside kill", []string{FindingExternalKill, FindingGracePeriodKill},
			[]string{"backoff-never-resets", "outside-kill-20s", "outside-kill-2s"}},
	}
	signals := map[string]bool{}
	for _, s := range signalNames {
		signals[s] = true
	}
	checked := make([]map[string]bool, len(classes))
	for i := range checked {
		checked[i] = map[string]bool{}
	}
	found := map[string]string{} // each recording's top finding, or why it has none to check
	for name, fx := range loadFixtures(t) {
		v := Classify(fx.in.Pod, fx.in.Now)
		r := Diagnose(fx.in)
		if !v.Failing || r.Exit == nil || len(r.Findings) == 0 {
			found[name] = fmt.Sprintf("failing %v, exit known %v, %d findings", v.Failing, r.Exit != nil, len(r.Findings))
			continue
		}
		top := string(r.Findings[0].ID)
		found[name] = "top finding " + top
		for i, c := range classes {
			if !slices.Contains(c.findings, top) {
				continue
			}
			checked[i][name] = true
			if m := v.Pod.Meaning; m != "" && !signals[m] {
				t.Errorf("%s: EXIT %d %q beside the cause %q", name, v.Pod.ExitCode, m, r.Cause())
			}
		}
	}
	for i, c := range classes {
		if len(checked[i]) == 0 {
			t.Errorf("%s: checked on no recording", c.name)
		}
		for _, name := range c.expect {
			if !checked[i][name] {
				why, ok := found[name]
				if !ok {
					why = "no such recording"
				}
				t.Errorf("%s: %s was not checked (%s)", c.name, name, why)
			}
		}
	}
}
