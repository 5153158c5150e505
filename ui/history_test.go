package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
)

// rowsWaiting is the ledger's rows of the pod's container with the given
// waits between its crashes (oldest first), the newest being the crash
// the pod's status shows; newest first, as the ledger answers.
func rowsWaiting(t *testing.T, m *Model, pod string, waits ...time.Duration) []ledger.Crash {
	t.Helper()
	// The incident the fake source serves for the pod.
	src := m.src.(*fakeSource)
	inc := src.inc[pod]
	cs, ok := diagnose.StatusOf(inc.Pod, inc.Container)
	term, instance, _ := diagnose.LastTermination(cs)
	if !ok || term == nil {
		t.Fatalf("%s has no termination", pod)
	}
	const run = time.Second
	end := term.FinishedAt.Time
	var out []ledger.Crash
	for i := len(waits); i >= 0; i-- {
		out = append(out, ledger.Crash{Context: "test", Namespace: inc.Pod.Namespace, Workload: diagnose.ResolveOwner(inc.Pod), Pod: inc.Pod.Name,
			PodUID: string(inc.Pod.UID), Container: inc.Container, Restart: instance - int32(len(waits)-i), StartedAt: end.Add(-run), FinishedAt: end,
			RunSeconds: run.Seconds(), ExitCode: 137, Reason: "OOMKilled"})
		if i > 0 {
			end = end.Add(-run - waits[i-1])
		}
	}
	return out
}

// TestHeaderFollowsObservedWaits: when the ledger's waits disagree with
// the assumed back-off (a node on the faster decay, or a lower cap), the
// detail header says its delay is the observed one, the strip says where
// the node's cap stands, and the incident report the TUI writes from the
// same rows says the same; waits on the assumed curve change nothing.
func TestHeaderFollowsObservedWaits(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name    string
		waits   []time.Duration
		want    []string
		notWant []string
		report  string
	}{
		{"the faster initial decay", []time.Duration{1 * s, 2 * s, 4 * s, 8 * s},
			[]string{"delay 16s as observed; not the default curve", "waits 1s 2s 4s 8s (back-off 10s 20s 40s 80s) · climbing · node's cap not reached yet"},
			nil, "- current delay: 16s (observed), cap not reached yet"},
		{"a lower cap", []time.Duration{10 * s, 20 * s, 30 * s, 30 * s},
			[]string{"delay 30s as observed; not the default curve", "waits 10s 20s 30s 30s (back-off 10s 20s 40s 80s) · at the cap · node's cap 30s as observed"},
			nil, "- current delay: 30s (observed), cap 30s as observed"},
		{"the default curve", []time.Duration{40 * s, 80 * s, 160 * s, 300 * s},
			[]string{"delay 5m, cap 5m", "· at the cap"},
			[]string{"as observed", "node's cap"}, "- current delay: 5m (estimated), cap 5m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, src := newTestModel(t, "oomkilled")
			m.Update(tea.WindowSizeMsg{Width: 240, Height: 30}) // the whole header line
			pod := ""
			for name := range src.inc {
				pod = name
			}
			src.history = rowsWaiting(t, m, pod, tc.waits...)
			press(t, m, "enter")
			if m.detail == nil || m.detail.rep == nil || !m.detail.hist.loaded {
				t.Fatal("detail or its history not loaded")
			}
			head := strings.Join(strings.Split(screen(m), "\n")[:4], "\n")
			for _, want := range tc.want {
				if !strings.Contains(head, want) {
					t.Errorf("header lacks %q:\n%s", want, head)
				}
			}
			for _, not := range tc.notWant {
				if strings.Contains(head, not) {
					t.Errorf("header has %q:\n%s", not, head)
				}
			}
			var md bytes.Buffer
			if err := report.Markdown(&md, *m.detail.inc, *m.detail.rep, m.detail.hist.rows, testNow, "test"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(md.String(), tc.report) {
				t.Errorf("the report disagrees with the header: no %q in\n%s", tc.report, md.String())
			}
		})
	}
}

// TestStripOfAWholePodRestart: a pod its own rule restarts as a whole has
// no crash-loop back-off, so the strip shows its waits without holding
// them to one.
func TestStripOfAWholePodRestart(t *testing.T) {
	m, src := newTestModel(t, "whole-pod-restart")
	m.Update(tea.WindowSizeMsg{Width: 240, Height: 30})
	var inc crash.Incident
	for _, i := range src.inc {
		inc = i
	}
	end := testNow.Add(-time.Minute)
	src.history = nil
	for i := range int32(3) {
		src.history = append(src.history, ledger.Crash{Context: "test", Namespace: inc.Pod.Namespace, Workload: diagnose.ResolveOwner(inc.Pod), Pod: inc.Pod.Name, PodUID: string(inc.Pod.UID),
			Container: "trainer", Restart: 2 - i, StartedAt: end.Add(-5 * time.Second), FinishedAt: end, RunSeconds: 5, ExitCode: 3, Reason: "Error"})
		end = end.Add(-6 * time.Second)
	}
	press(t, m, "enter")
	if m.detail == nil || m.detail.rep == nil || !m.detail.hist.loaded {
		t.Fatal("detail or its history not loaded")
	}
	head := strings.Join(strings.Split(screen(m), "\n")[:4], "\n")
	if !strings.Contains(head, "waits 1s 1s (no back-off: the pod restarts as a whole)") || strings.Contains(head, "(back-off ") {
		t.Errorf("strip of a whole-pod restart:\n%s", head)
	}
}
