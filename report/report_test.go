package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
)

// hostile is what an attacker can put in a log line, an event message or a
// label: terminal controls of every kind, a code-fence breakout, bidi
// overrides, invalid UTF-8 and a Markdown table break.
const hostile = "ok \x1b[2J\x1b[H\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x1b\\\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \u009b31m \x1bP1$r\x1b\\ \u202Etxt.exe \xff\xfe\x00 | <script> ```` \n```\n# injected heading"

var codeSpan = regexp.MustCompile("(`+) .*? (`+)")

func recorded(t *testing.T, scenario string) (crash.Incident, diagnose.Report) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "diagnose", "testdata", scenario, "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(b, &pod); err != nil {
		t.Fatal(err)
	}
	var events corev1.EventList
	b, _ = os.ReadFile(filepath.Join("..", "diagnose", "testdata", scenario, "events.json"))
	_ = json.Unmarshal(b, &events)
	prev, _ := os.ReadFile(filepath.Join("..", "diagnose", "testdata", scenario, "previous.log"))
	inc := crash.Incident{Pod: &pod, Container: pod.Spec.Containers[0].Name, Events: events.Items, PreviousLog: string(prev)}
	r := diagnose.Diagnose(diagnose.Input{Pod: &pod, Events: events.Items, PreviousLog: string(prev), Now: time.Now()})
	return inc, r
}

// TestMarkdownHostileInput: no escape sequence or control byte from the data
// reaches the report, and a log cannot close its code fence.
func TestMarkdownHostileInput(t *testing.T) {
	inc, _ := recorded(t, "missing-script")
	inc.PreviousLog = strings.Repeat(hostile+"\n", 3) + strings.Repeat("x", 1<<20) + "\n"
	inc.CurrentLog = hostile
	inc.Pod.Spec.NodeName = hostile
	for i := range inc.Events {
		inc.Events[i].Message = hostile
	}
	r := diagnose.Diagnose(diagnose.Input{Pod: inc.Pod, Events: inc.Events, PreviousLog: inc.PreviousLog, Now: time.Now()})
	var out bytes.Buffer
	history := []ledger.Crash{{Pod: hostile, PodUID: "u", Cause: hostile, FirstError: hostile, Signal: hostile, FinishedAt: time.Now(), ExitCode: 1}}
	if err := Markdown(&out, inc, r, history, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	if !strings.Contains(md, "## Crash history (crashlens ledger)\n\n1 crash since") {
		t.Error("the report lacks the ledger's history")
	}
	for _, bad := range []string{"\x1b", "\u009b", "\x07", "\x00", "\u202E", "\xff"} {
		if strings.Contains(md, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	// Every fence opened is closed by a line of the same fence: count the
	// fence lines outside fences, the injected heading must stay inside.
	inFence, fence := false, ""
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !inFence && strings.HasPrefix(line, "```"):
			inFence, fence = true, strings.TrimRight(line, "abcdefghijklmnopqrstuvwxyz")
		case inFence && line == fence:
			inFence = false
		case !inFence && line == "# injected heading":
			t.Error("a log line escaped its code block")
		case !inFence && strings.Contains(codeSpan.ReplaceAllString(line, ""), "<script>"):
			// Inside code, HTML is literal text; outside it must be escaped.
			t.Errorf("raw HTML outside code: %q", line)
		}
	}
	if inFence {
		t.Error("a code block is never closed")
	}
	if len(md) > 200<<10 {
		t.Errorf("report of %d bytes: logs are not bounded", len(md))
	}
}

func TestMarkdownSections(t *testing.T) {
	inc, r := recorded(t, "probe-mixup-bad")
	inc.Cluster = "prod-eu" // which cluster, in a fleet especially
	var out bytes.Buffer
	if err := Markdown(&out, inc, r, nil, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Crash report: gateway/", "| Cluster | prod-eu |", "## Findings", "`liveness-kill`", "## Exit code", "grace-period-sigkill",
		"## Back-off timeline", "## Pod status", "## Resources", "## Events", "Killing", "## Previous log", "warming up for 30s",
		"## Probes", "```diff", "-    path: /readyz", "+    path: /healthz", "## Quick checks", "- [x] killed by a probe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestEnvironmentShowsReferencesNotSecrets: a Secret-backed variable is
// shown as its reference, a literal whose name looks secret is hidden, other
// literals and ConfigMap references are shown.
func TestEnvironmentShowsReferencesNotSecrets(t *testing.T) {
	inc, r := recorded(t, "missing-script")
	c := &inc.Pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
		{Name: "API_TOKEN", Value: "tok-literal-9f8e7d"},
		{Name: "LOG_LEVEL", Value: "debug"},
		{Name: "FEATURES", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "flags"}, Key: "list"}}},
	}
	c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bulk"}}}}
	var out bytes.Buffer
	if err := Markdown(&out, inc, r, nil, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"## Environment of " + c.Name,
		"| DB_PASSWORD | Secret db, key password (value not read) |",
		"| API_TOKEN | (literal value hidden: the name looks secret) |",
		"| LOG_LEVEL | `debug` |",
		"| FEATURES | ConfigMap flags, key list |",
		"| * | every key of Secret bulk |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "tok-literal-9f8e7d") {
		t.Error("a literal value named like a token is in the report")
	}
}
