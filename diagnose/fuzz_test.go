package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora are the recorded scenarios (real kubelet messages and
// real logs) plus the cases in f.Add; go test runs them on every run.

func FuzzParseBackoffMessage(f *testing.F) {
	for _, s := range []string{
		"back-off 2m40s restarting failed container=app pod=ns/p_uid",
		"back-off 10s restarting failed container=app-tcb-api pod=api-57c7869b4f-2fhdp_cloud(8263dc53)",
		"back-off 5m0s restarting failed container=x pod=y", "back-off 1h restarting failed container", "back-off restarting failed container",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		d, ok := parseBackoffMessage(msg)
		if ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("%q parsed to %s", msg, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: not ok but %s", msg, d)
		}
	})
}

func FuzzClassifyLog(f *testing.F) {
	logs, _ := filepath.Glob("testdata/*/previous.log")
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("\x1b[2J\x1b]0;owned\x07panic: boom\n\xff\xfe\n")
	f.Add(strings.Repeat("a", 5000) + " connection refused")
	f.Fuzz(func(t *testing.T, log string) {
		s := ClassifyLog(strings.NewReader(log))
		if s.Lines > MaxLogLines || len(s.Matches) > maxLogMatches {
			t.Fatalf("unbounded: %d lines %d matches", s.Lines, len(s.Matches))
		}
		for _, m := range s.Matches {
			if len(m.Text) > MaxLogLineBytes || m.Line < 1 || m.Line > s.Lines {
				t.Fatalf("bad match %+v of %d lines", m, s.Lines)
			}
		}
		if s.Empty != (s.Lines == 0) {
			t.Fatalf("empty=%v with %d lines", s.Empty, s.Lines)
		}
	})
}

func FuzzLoadTemplate(f *testing.F) {
	f.Add(DefaultTemplateYAML)
	f.Add("livenessProbe: {httpGet: {path: /livez, port: 9000}}\n")
	f.Add("readinessProbe:\n  periodSeconds: often\n")
	f.Add("- 1\n")
	f.Add("{a: [")
	f.Fuzz(func(t *testing.T, doc string) {
		tmpl, err := LoadTemplate([]byte(doc))
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(doc) {
				t.Fatalf("invalid UTF-8 in error for valid input: %q", err)
			}
			return
		}
		if tmpl.StartupBudgetFactor < 1 {
			t.Fatalf("accepted factor %v", tmpl.StartupBudgetFactor)
		}
	})
}
