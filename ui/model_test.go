package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/theme"
)

// fakeSource serves recorded incidents; no cluster.
type fakeSource struct {
	ch      chan crash.Batch
	inc     map[string]crash.Incident // by pod name
	history []ledger.Crash
	// historySource is the line History says the rows come from.
	historySource string
	asked         []string // the cluster of each Gather
	mu            sync.Mutex
}

func (f *fakeSource) Batches() <-chan crash.Batch { return f.ch }
func (f *fakeSource) Gather(_ context.Context, cluster, _, pod, _ string) (crash.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, cluster)
	return f.inc[pod], nil
}
func (f *fakeSource) Follow(context.Context, string, string, string, string, func(string)) error {
	return nil
}
func (f *fakeSource) History(_ context.Context, q ledger.Query) ([]ledger.Crash, string, error) {
	var out []ledger.Crash
	for _, r := range f.history {
		if r.Namespace == q.Namespace && r.Workload == q.Workload && r.Container == q.Container {
			out = append(out, r)
		}
	}
	return out, f.historySource, nil
}

// ledgerRowsOf is what a ledger would hold for a recorded pod: its last
// four crashes, 10 s, 20 s and 40 s apart (a climbing back-off), and one
// of a pod its ReplicaSet replaced; newest first, as the ledger answers.
func ledgerRowsOf(inc crash.Incident) []ledger.Crash {
	pod := inc.Pod
	owner := diagnose.ResolveOwner(pod)
	row := func(name, uid string, restart int32, finished time.Time) ledger.Crash {
		return ledger.Crash{ID: int64(restart) + 1, Context: "test", Namespace: pod.Namespace, Workload: owner, Pod: name, PodUID: uid,
			Container: inc.Container, Restart: restart, StartedAt: finished.Add(-25 * time.Second), FinishedAt: finished, RunSeconds: 25,
			ExitCode: 137, Signal: "SIGKILL", Killer: diagnose.KillerGracePeriod, TopFinding: diagnose.FindingLivenessKill, Cause: "liveness kill",
			Events:  finished.Format(time.RFC3339) + " Normal Killing Container app failed liveness probe, will be restarted\n",
			LogTail: fmt.Sprintf("instance %d starting\nwarming cache\n", restart)}
	}
	end := testNow.Add(-4 * time.Minute)
	var out []ledger.Crash
	for i, wait := range []time.Duration{40, 20, 10, 0} {
		out = append(out, row(pod.Name, string(pod.UID), int32(4-i), end))
		end = end.Add(-(wait*time.Second + 25*time.Second))
	}
	return append(out, row(pod.Name[:len(pod.Name)-5]+"old01", "uid-replaced", 9, end.Add(-time.Hour)))
}

var testNow = time.Date(2026, 11, 21, 14, 10, 0, 0, time.UTC)

// recordedIncident loads a scenario recorded from the real cluster.
func recordedIncident(t testing.TB, scenario string) crash.Incident {
	t.Helper()
	dir := filepath.Join("..", "diagnose", "testdata", scenario)
	var pod corev1.Pod
	var events corev1.EventList
	for name, v := range map[string]any{"pod.json": &pod, "events.json": &events} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	prev, _ := os.ReadFile(filepath.Join(dir, "previous.log"))
	inc := crash.Incident{Pod: &pod, Container: diagnose.FailingContainer(&pod, testNow), Events: events.Items, PreviousLog: string(prev)}
	for _, ref := range pod.OwnerReferences {
		inc.Owners.Chain = append(inc.Owners.Chain, ref.Kind+"/"+ref.Name)
	}
	return inc
}

// batchOf classifies recorded pods into groups, as the watcher would.
func batchOf(t testing.TB, incs ...crash.Incident) crash.Batch {
	t.Helper()
	b := crash.Batch{State: crash.ConnState{Phase: crash.PhaseSynced}, Watched: 120, At: testNow}
	for _, inc := range incs {
		v := diagnose.Classify(inc.Pod, testNow)
		cp, ok := v.Pod, v.Failing
		if !ok {
			continue
		}
		b.Upserted = append(b.Upserted, crash.NewGroup([]diagnose.CrashPod{cp}))
		b.Crashing++
	}
	return b
}

func newTestModel(t testing.TB, scenarios ...string) (*Model, *fakeSource) {
	t.Helper()
	src := &fakeSource{ch: make(chan crash.Batch), inc: map[string]crash.Incident{}}
	var incs []crash.Incident
	for _, s := range scenarios {
		inc := recordedIncident(t, s)
		src.inc[inc.Pod.Name] = inc
		src.history = append(src.history, ledgerRowsOf(inc)...)
		incs = append(incs, inc)
	}
	m := New(src, Options{Context: "test", Scope: "all namespaces", Styles: theme.Plain(), Version: "test"})
	m.now = func() time.Time { return testNow }
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(batchMsg(batchOf(t, incs...)))
	return m, src
}

func press(t testing.TB, m *Model, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		runCmd(t, m, cmd)
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	{
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		return msg
	}
}

// cmdBound is how long a key's command may take in a test: the fake
// source answers at once, so only a hung command gets near it.
const cmdBound = 5 * time.Second

// runCmd runs the commands a key produced (fetches of the fake source,
// filter results) and feeds their messages back, and fails the test when
// one does not finish within cmdBound: a slow command is a bug here, never
// something to skip.
func runCmd(t testing.TB, m *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				runCmd(t, m, c)
			}
			return
		}
		_, next := m.Update(msg)
		runCmd(t, m, next)
	case <-time.After(cmdBound):
		t.Fatalf("a command did not finish within %s", cmdBound)
	}
}

func screen(m *Model) string { return ansi.Strip(m.View().Content) }

// goldenScreen compares a screen with testdata/<Test>/<name>.golden
// (charmbracelet/x/exp/golden; go test ./ui -update rewrites them).
func goldenScreen(t *testing.T, name, got string) {
	t.Helper()
	t.Run(name, func(t *testing.T) { golden.RequireEqual(t, got) })
}

var allScenarios = []string{"probe-mixup-bad", "oomkilled", "missing-script", "backoff-never-resets", "image-pull", "missing-configmap-key",
	"init-crashloop", "segfault", "exit-zero", "healthy"}

func TestListGolden(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	out := screen(m)
	if strings.Contains(out, "storefront") {
		t.Error("the healthy scenario is listed")
	}
	goldenScreen(t, "list", out)
}

// TestListGolden80: in an 80x24 terminal (a laptop split, a tmux pane on
// call) the list keeps the answer: CAUSE stays (24 characters at least),
// with the workload, state, restarts and last restart, and what the cause
// implies (EXIT, CONTAINER) goes first (report.Narrowing).
func TestListGolden80(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	out := screen(m)
	header := strings.Fields(strings.Split(out, "\n")[0])
	for _, col := range []string{"WORKLOAD", "STATE", "CAUSE", "RESTARTS", "LAST"} {
		if !slices.Contains(header, col) {
			t.Errorf("80 columns: %s is gone: %v", col, header)
		}
	}
	for _, cause := range []string{"OOM killed", "segfault", "image pull failed", "exits 0"} {
		if !strings.Contains(out, cause) {
			t.Errorf("80 columns: the cause %q is not on screen:\n%s", cause, out)
		}
	}
	goldenScreen(t, "list-80", out)
}

func TestFilterGolden(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	press(t, m, "/", "m", "i", "x", "u", "p")
	out := screen(m)
	if !strings.Contains(out, "deploy/probe-mixup-bad") || strings.Contains(out, "analytics") {
		t.Errorf("filter did not narrow to mixup:\n%s", out)
	}
	goldenScreen(t, "filter", out)
	press(t, m, "esc")
	if !strings.Contains(screen(m), "analytics") {
		t.Error("esc did not clear the filter")
	}
}

func TestDetailGolden(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	press(t, m, "/", "m", "i", "x", "u", "p", "enter")
	if m.detail == nil || m.detail.rep == nil {
		t.Fatal("detail not open or not loaded")
	}
	out := screen(m)
	for _, want := range []string{"1. liveness-kill", "killed by grace-period", "failed liveness probe", "warming", "livenessProbe httpGet.path: /readyz →"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	goldenScreen(t, "detail", out)
	// Each pane on its own (zoomed) at 100x30.
	for i, name := range []string{"diagnosis", "exit", "events", "logs", "probes"} {
		m.detail.focus, m.detail.zoom = i, true
		goldenScreen(t, "pane-"+name, screen(m))
	}
	m.detail.focus, m.detail.zoom = 0, false
	press(t, m, "tab", "tab", "tab", "z")
	if out := screen(m); !strings.Contains(out, " Previous logs ") || strings.Contains(out, "Diagnosis [") {
		t.Errorf("zoom does not show the log pane alone:\n%s", out)
	}
	press(t, m, "esc", "esc")
	if m.detail != nil {
		t.Error("esc esc did not return to the list")
	}
}

// TestCursorStaysOnSelectedGroup: live updates that reorder the list never
// move the cursor off the selected group; a group that disappears lingers
// as resolved.
func TestCursorStaysOnSelectedGroup(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	press(t, m, "down", "down")
	sel, _ := m.list.selected()
	newer := sel
	newer.LastRestart = testNow.Add(time.Hour) // now it sorts first
	newer.Restarts += 5
	m.Update(batchMsg(crash.Batch{Upserted: []crash.Group{newer}, State: crash.ConnState{Phase: crash.PhaseSynced}}))
	if got, _ := m.list.selected(); got.Key != sel.Key || m.list.index(sel.Key) != 0 {
		t.Errorf("cursor on %s at %d, want %s at 0", got.Key, m.list.index(sel.Key), sel.Key)
	}
	m.Update(batchMsg(crash.Batch{Removed: []string{sel.Key}, State: crash.ConnState{Phase: crash.PhaseSynced}}))
	if got, _ := m.list.selected(); got.Key != sel.Key || !strings.Contains(screen(m), "resolved") {
		t.Error("a removed group did not linger as resolved under the cursor")
	}
	m.now = func() time.Time { return testNow.Add(resolvedFor + time.Second) }
	m.Update(tickMsg(testNow))
	if _, ok := m.list.rows[sel.Key]; ok {
		t.Error("the resolved group never went away")
	}
}

func TestEmptyStates(t *testing.T) {
	src := &fakeSource{ch: make(chan crash.Batch)}
	m := New(src, Options{Scope: "3 namespaces", Styles: theme.Plain()})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if !strings.Contains(screen(m), "syncing") {
		t.Errorf("before the first batch:\n%s", screen(m))
	}
	m.Update(batchMsg(crash.Batch{State: crash.ConnState{Phase: crash.PhaseSynced}, Watched: 1204}))
	if !strings.Contains(screen(m), "no crashing pods in 3 namespaces (1,204 pods watched)") {
		t.Errorf("empty list:\n%s", screen(m))
	}
	m.Update(batchMsg(crash.Batch{State: crash.ConnState{Phase: crash.PhaseForbidden, Verb: "list"}}))
	if !strings.Contains(screen(m), "forbidden to list pods cluster-wide") {
		t.Errorf("forbidden:\n%s", screen(m))
	}
}

// TestTinyTerminals: every size down to 1x1 renders without panicking,
// and resizing reflows.
func TestTinyTerminals(t *testing.T) {
	m, _ := newTestModel(t, allScenarios...)
	press(t, m, "enter")
	for _, size := range [][2]int{{20, 5}, {80, 24}, {1, 1}, {0, 0}, {33, 7}, {200, 60}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		out := screen(m)
		for _, line := range strings.Split(out, "\n") {
			if w := ansi.StringWidth(line); size[0] > 0 && w > size[0] {
				t.Errorf("%dx%d: a line is %d wide: %q", size[0], size[1], w, line)
			}
		}
	}
}

// TestHostileNamesNeverReachTheTerminal: names, messages and logs full of
// control sequences render without any of them.
func TestHostileNamesNeverReachTheTerminal(t *testing.T) {
	const evil = "x\x1b]0;owned\x07\x1b[2J\x1b]52;c;cm0=\x07\x1b]8;;http://e\x1b\\l\x1b]8;;\x1b\\\u009b2J\x1bP1$r\x1b\\\u202e\xff"
	m, src := newTestModel(t, "missing-script")
	g, _ := m.list.selected()
	inc := src.inc[g.Pods[0].Name]
	g.Namespace, g.Owner, g.Container, g.State = evil, evil, evil, evil
	g.Pods[0].Name, g.Pods[0].Message = evil, evil
	m.Update(batchMsg(crash.Batch{Upserted: []crash.Group{g}, State: crash.ConnState{Phase: crash.PhaseSynced}}))
	inc.PreviousLog = strings.Repeat(evil+"\n", 50) + strings.Repeat("y", 1<<20)
	for i := range inc.Events {
		inc.Events[i].Message = evil
	}
	src.inc[evil] = inc
	press(t, m, "e")
	check := func(where string) {
		out := m.View().Content
		for _, bad := range []string{"\x1b]", "\x1bP", "\x1b[2J", "\x07", "\u009b", "\u202e", "\xff"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: %q reached the terminal", where, bad)
			}
		}
	}
	check("list")
	press(t, m, "enter")
	check("detail")
	press(t, m, "tab", "tab", "tab", "z")
	check("zoomed log")
}

// TestJumpsWithoutKubectl: with no kubectl on PATH the exec, debug and
// describe keys say so in one line; the panes, the live log tail and the
// report keep working.
func TestJumpsWithoutKubectl(t *testing.T) {
	m, _ := newTestModel(t, "missing-script")
	press(t, m, "enter")
	before := m.View().Content
	for _, k := range []string{"s", "d"} {
		press(t, m, k)
		out := m.View().Content
		if !strings.Contains(out, "kubectl not found on PATH") {
			t.Errorf("%s without kubectl does not say so:\n%s", k, out)
		}
		if !strings.Contains(out, "1. ") || !strings.Contains(out, "Exit code") {
			t.Errorf("%s without kubectl broke the panes:\n%s", k, out)
		}
	}
	if strings.Contains(before, "kubectl not found") {
		t.Error("the missing kubectl is reported before a jump key is pressed")
	}
	press(t, m, "l")
	if out := m.View().Content; !strings.Contains(out, "Live log: following") {
		t.Errorf("the log tail needs no kubectl, but it did not start:\n%s", out)
	}
}

// TestReadonlyHidesExecAndDebug: --readonly takes the shell key out of the
// help bar, and pressing it says why instead of running anything.
func TestReadonlyHidesExecAndDebug(t *testing.T) {
	for _, readonly := range []bool{false, true} {
		src := &fakeSource{ch: make(chan crash.Batch), inc: map[string]crash.Incident{}}
		inc := recordedIncident(t, "missing-script")
		src.inc[inc.Pod.Name] = inc
		m := New(src, Options{Context: "test", Scope: "all namespaces", Styles: theme.Plain(), Version: "test", Readonly: readonly, Kubectl: "/nonexistent/kubectl"})
		m.now = func() time.Time { return testNow }
		m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
		m.Update(batchMsg(batchOf(t, inc)))
		press(t, m, "enter")
		help := m.helpBar()
		if got := strings.Contains(help, "shell/debug"); got == readonly {
			t.Errorf("readonly=%v: help bar %q", readonly, help)
		}
		_, cmd := m.Update(keyMsg("s"))
		out := m.View().Content
		if readonly {
			if cmd != nil || !strings.Contains(out, "read-only mode (--readonly): exec and debug are disabled") {
				t.Errorf("s in read-only mode ran something or did not say why:\n%s", out)
			}
		} else if strings.Contains(out, "read-only") {
			t.Errorf("read-only message without --readonly:\n%s", out)
		}
		if got := strings.Contains(m.helpView(), "shell/debug (off: --readonly)"); got != readonly {
			t.Errorf("readonly=%v: the full help says the shell is off: %v", readonly, got)
		}
	}
}

// TestThemeFollowsTheBackground: the colour theme switches to deep tones
// when the terminal reports a light background; the colourless one stays.
func TestThemeFollowsTheBackground(t *testing.T) {
	for _, tc := range []struct {
		st   theme.Styles
		want theme.Styles
	}{{theme.Default(), theme.Adaptive(false)}, {theme.Plain(), theme.Plain()}} {
		m := New(&fakeSource{ch: make(chan crash.Batch)}, Options{Styles: tc.st})
		m.Update(tea.BackgroundColorMsg{Color: color.White})
		if got, want := m.st.Error.GetForeground(), tc.want.Error.GetForeground(); got != want {
			t.Errorf("after a light background the error colour is %v, want %v", got, want)
		}
	}
}

// TestBestMatchFirstWhateverTheScores: above sortedMatches rows, the best
// match comes first both when a histogram finds the top rows and when the
// scores are too spread for one (then every row is sorted).
func TestBestMatchFirstWhateverTheScores(t *testing.T) {
	for _, spread := range []int{10, 1 << 20} {
		m := newListModel()
		ms := &matches{}
		for i := 0; i < 3*sortedMatches; i++ {
			g := crash.Group{Key: fmt.Sprintf("g%05d", i), Pods: []diagnose.CrashPod{{}}}
			m.rows[g.Key] = &row{group: g}
			ms.rows, ms.scores = append(ms.rows, m.rows[g.Key]), append(ms.scores, i%7)
		}
		ms.scores[len(ms.scores)-1] = spread // g02999 is the best, last in key order
		m.allDirty = true
		m.setMatches(ms)
		if m.order[0] != "g02999" {
			t.Errorf("spread %d: first is %s, want the best match g02999", spread, m.order[0])
		}
	}
}

// TestHistoryPane: the History pane lists the ledger's crashes of the
// workload's container newest first (a replaced pod's too) in the events'
// row while it has the focus, the header's strip shows the waits next to
// the back-off, enter opens a crash's stored log and events, esc goes back
// to the rows and then to the list.
func TestHistoryPane(t *testing.T) {
	m, _ := newTestModel(t, "probe-mixup-bad")
	press(t, m, "enter")
	if m.detail == nil || !m.detail.hist.loaded || len(m.detail.hist.rows) != 5 {
		t.Fatalf("history not loaded: %+v", m.detail)
	}
	out := screen(m)
	for _, want := range []string{"crashes ×", "waits 10s 20s 40s (back-off 10s 20s 40s) · climbing", " Events [1-"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	press(t, m, "shift+tab") // History is the last pane: it takes the events' row
	if out := screen(m); !strings.Contains(out, " History [1-4/6] ") || strings.Contains(out, " Events ") {
		t.Errorf("the focused History pane is not in the middle row:\n%s", out)
	}
	press(t, m, "z")
	out = screen(m)
	for _, want := range []string{"liveness kill", "grace-period-sigkill", "this pod", "› 4m", "probe-mixup-bad-dff9b4556-…"} {
		if !strings.Contains(out, want) {
			t.Errorf("zoomed history lacks %q:\n%s", want, out)
		}
	}
	goldenScreen(t, "history", out)
	press(t, m, "j", "enter")
	out = screen(m)
	for _, want := range []string{"restart 3", "instance 3 starting", "Killing Container app failed liveness probe", "cause: liveness kill"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second crash's record lacks %q:\n%s", want, out)
		}
	}
	goldenScreen(t, "record", out)
	press(t, m, "esc")
	if m.detail == nil || m.detail.hist.open || !strings.Contains(screen(m), "this pod") {
		t.Fatal("esc did not close the record")
	}
	press(t, m, "esc", "esc")
	if m.detail != nil {
		t.Error("esc did not go back to the list")
	}
}

// TestBatchKeepsTheFilterCorpus: a batch that moves a group's numbers or
// times changes its row in place and keeps the filter's corpus; one that
// changes the words it is found by, or whether R hides it, makes a new
// corpus (with the row's chunk rebuilt: TestCorpusUpdateRebuildsItsChunk).
func TestBatchKeepsTheFilterCorpus(t *testing.T) {
	synced := crash.ConnState{Phase: crash.PhaseSynced}
	for _, tc := range []struct {
		name       string
		hideRecent bool
		change     func(g crash.Group) crash.Group
		keeps      bool
	}{
		{"a restart moves the count and time", false, func(g crash.Group) crash.Group {
			g.Restarts += 3
			g.LastRestart = g.LastRestart.Add(time.Hour)
			return g
		}, true},
		{"a pod joins the group", false, func(g crash.Group) crash.Group {
			p := g.Pods[0]
			p.Name = "service-00007-api-7d9f8c6b5-newpod"
			g.Pods = append(slices.Clone(g.Pods), p)
			return g
		}, false},
		{"R hides it now", true, func(g crash.Group) crash.Group {
			g.State = diagnose.StateRestarted
			return g
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newListModel()
			m.hideRecent = tc.hideRecent
			b := syntheticBatch(20)
			m.onBatch(b, testNow)
			key := b.Upserted[7].Key
			m.onBatch(crash.Batch{Removed: []string{key}, State: synced}, testNow) // resolved, then back
			m.input.SetValue("service-0000")
			m.refilter()
			before := m.corp
			if before == nil {
				t.Fatal("no corpus after filtering")
			}
			changed := tc.change(b.Upserted[7])
			m.onBatch(crash.Batch{Upserted: []crash.Group{changed}, State: synced}, testNow)
			r := m.rows[key]
			if r.group.Restarts != changed.Restarts || len(r.group.Pods) != len(changed.Pods) || !r.resolved.IsZero() {
				t.Errorf("row %+v after the batch, want the new group, not resolved", r.group)
			}
			if kept := m.corp == before; kept != tc.keeps {
				t.Errorf("corpus kept: %v, want %v", kept, tc.keeps)
			}
			rows, text := m.visibleCorpus().flat()
			in := slices.Contains(rows, r)
			if hidden := m.hides(changed); in == hidden {
				t.Errorf("row in the corpus: %v, hidden: %v", in, hidden)
			}
			if in && !bytes.Contains(text, []byte(strings.ToLower(changed.Pods[len(changed.Pods)-1].Name))) {
				t.Error("the corpus does not hold the group's newest pod")
			}
		})
	}
}

// TestInPlaceUpdateWhileRanking: a batch changes a row in place while a
// ranking runs on the corpus off the update loop (the race detector
// watches), and the ranking that follows shows the new numbers.
func TestInPlaceUpdateWhileRanking(t *testing.T) {
	m := benchModel(3000)
	m.list.input.SetValue("service-0000")
	cmd := m.list.refilter()
	if cmd == nil {
		t.Fatal("no ranking off the update loop at 3,000 rows")
	}
	ranked := make(chan tea.Msg)
	go func() { ranked <- cmd() }()
	one := syntheticBatch(1) // row 0, the same words
	one.Upserted[0].Restarts += 7
	next := m.list.onBatch(one, testNow)
	m.Update(<-ranked) // stale now: dropped
	if next == nil {
		t.Fatal("no new ranking after the batch")
	}
	m.Update(next())
	key := one.Upserted[0].Key
	if i := m.list.index(key); i < 0 || m.list.rows[key].group.Restarts != one.Upserted[0].Restarts {
		t.Errorf("row %s at %d with %d restarts, want it listed with %d", key, i, m.list.rows[key].group.Restarts, one.Upserted[0].Restarts)
	}
}

// TestHistoryPaneSaysWhereRowsComeFrom: with the in-cluster recorder's
// rows merged in, the pane's first line says where they come from, and
// the selection still walks the rows (not the line above them).
func TestHistoryPaneSaysWhereRowsComeFrom(t *testing.T) {
	m, src := newTestModel(t, "probe-mixup-bad")
	src.historySource = "history: in-cluster recorder since 2026-11-21 09:12 · local since 14:04"
	press(t, m, "enter", "shift+tab", "z")
	out := screen(m)
	if !strings.Contains(out, "history: in-cluster recorder since 2026-11-21 09:12 · local since 14:04") || !strings.Contains(out, "› 4m") {
		t.Fatalf("the History pane does not say where its rows come from:\n%s", out)
	}
	press(t, m, "j", "enter")
	if out := screen(m); !strings.Contains(out, "restart 3") {
		t.Errorf("j then enter did not open the second row's record:\n%s", out)
	}
}
