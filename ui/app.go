package ui

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// tickInterval drives the countdowns and the "updated 3s ago" age.
const tickInterval = time.Second

// frameRate caps the renderer's frames a second. Bubble Tea's renderer
// wakes at this rate even when nothing changed, and on a virtual machine
// each wake costs about 0.17 ms of CPU (a bare Go ticker at 20 a second
// used 0.32% of a core on the benchmark machine): at its default of 60
// that alone cost 0.8% of a core in an idle TUI (BenchmarkIdleCPU). 15
// frames keep typing at most 67 ms behind the screen, under the 100 ms a
// user sees as instant.
const frameRate = 15

// Source is where the UI gets its data; kube provides it for a cluster,
// tests provide their own.
type Source interface {
	Batches() <-chan crash.Batch
	// Gather and Follow ask the group's cluster (Group.Cluster).
	Gather(ctx context.Context, cluster, namespace, pod, container string) (crash.Incident, error)
	Follow(ctx context.Context, cluster, namespace, pod, container string, emit func(string)) error
	// History is the crash history's rows (the local ledger's and the
	// cluster's in-cluster recorder's), and one line that says where they
	// come from ("" when it goes without saying); an error when there is
	// no history at all.
	History(ctx context.Context, q ledger.Query) (rows []ledger.Crash, source string, err error)
}

// Options configure the UI.
type Options struct {
	Context string // kubeconfig context, for the status bar
	// Clusters are the contexts of a fleet run (--context a,b): with more
	// than one the list has a CLUSTER column and a cluster filter, the
	// status bar shows each cluster's state, and jumps name the row's
	// context.
	Clusters []string
	Scope    string // "all namespaces" or "namespace x"
	Note     string // why the scope differs from what was asked
	Readonly bool
	Kubectl  string // path; empty when kubectl is not on PATH
	Args     kube.KubectlArgs
	// DebugImage is the ephemeral container's image for `kubectl debug`.
	DebugImage string
	Template   *diagnose.Template
	Timeout    time.Duration // --request-timeout: each request's bound (kube enforces it); 0 if unset
	Version    string
	Styles     theme.Styles
}

// timeout bounds one detail fetch, which makes several requests: wider
// than one request's bound, so a hung request fails with its own message.
func (o Options) timeout() time.Duration {
	return max(detailTimeout, 3*o.Timeout)
}

type batchMsg crash.Batch
type batchesClosedMsg struct{}
type tickMsg time.Time

// Model is the root model: it owns layout, the screen stack and terminal
// size, and routes each message to the screen that owns it.
type Model struct {
	src    Source
	opts   Options
	st     theme.Styles
	w, h   int
	list   listModel
	detail *detailModel  // nil on the list screen
	panel  *clusterPanel // the clusters panel of a fleet run, nil when closed
	help   bool
	now    func() time.Time
	ended  bool
}

// New builds the root model.
func New(src Source, o Options) *Model {
	m := &Model{src: src, opts: o, st: o.Styles, list: newListModel(), now: time.Now, w: 100, h: 30}
	if o.fleet() {
		m.list.short = crash.ShortClusterNames(o.Clusters)
	}
	return m
}

// waitBatch blocks in a tea.Cmd (never in Update) for the next batch.
func waitBatch(ch <-chan crash.Batch) tea.Cmd {
	return func() tea.Msg {
		b, ok := <-ch
		if !ok {
			return batchesClosedMsg{}
		}
		return batchMsg(b)
	}
}

func tick() tea.Cmd {
	return tea.Tick(tickInterval, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init starts listening to the watcher and the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitBatch(m.src.Batches()), tick()}
	if m.st.Colour {
		// The theme adapts to the background once the terminal says it.
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// Update routes messages by type.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		if m.detail != nil {
			m.detail.builtW = 0
		}
		return m, nil
	case tea.BackgroundColorMsg:
		if m.st.Colour {
			m.st = theme.Adaptive(msg.IsDark())
			if m.detail != nil {
				m.detail.builtW = 0 // re-render the panes in the new colours
			}
		}
		return m, nil
	case batchMsg:
		return m, tea.Batch(m.applyBatch(crash.Batch(msg)), waitBatch(m.src.Batches()))
	case batchesClosedMsg:
		m.ended = true
		return m, nil
	case tickMsg:
		// The order changes only when a resolved row goes: re-sorting every
		// second would cost a full sort of a large list for nothing.
		if m.list.expire(m.now()) {
			m.list.resort()
		}
		if m.detail != nil && !m.detail.following {
			m.detail.builtW = 0 // event ages move on
		}
		return m, tick()
	case filterMsg:
		m.list.onFilter(msg)
		return m, nil
	case incidentMsg:
		if m.detail != nil {
			m.detail.onIncident(msg, m.opts.Template, m.now())
		}
		return m, nil // else a late answer for a pod no longer shown
	case followMsg:
		if m.detail != nil {
			return m, m.detail.onFollow(msg, m.st)
		}
		return m, nil
	case historyMsg:
		if m.detail != nil {
			m.detail.onHistory(msg)
		}
		return m, nil
	case historyAgainMsg:
		if m.detail != nil && m.detail.pod.UID == msg.uid {
			return m, m.detail.fetchHistory(m.src, m.opts)
		}
		return m, nil
	case noticeMsg:
		if m.detail != nil {
			m.detail.notice = string(msg)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// applyBatch hands the watcher's batch to the list and, when one is open,
// to the detail screen.
func (m *Model) applyBatch(b crash.Batch) tea.Cmd {
	cmd := m.list.onBatch(b, m.now())
	if m.detail != nil {
		return tea.Batch(cmd, m.detail.onBatch(b, m.src, m.opts))
	}
	return cmd
}

func (m *Model) bodyHeight() int { return max(m.h-2, 1) } // status bar and help bar

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, Keys.Quit) {
		m.closeDetail()
		return tea.Quit
	}
	if m.help {
		m.help = false
		return nil
	}
	typing := (m.detail == nil && m.list.filtering) || (m.detail != nil && m.detail.searching)
	if !typing && key.Matches(msg, Keys.Help) {
		m.help = true
		return nil
	}
	if m.panel != nil {
		return m.panelKey(msg)
	}
	if m.detail != nil {
		if !typing && key.Matches(msg, Keys.Back) {
			if m.detail.closeRecord() {
				return nil
			}
			if m.detail.zoom {
				m.detail.zoom = false
				return nil
			}
			m.closeDetail()
			return nil
		}
		return m.detail.update(msg, m.opts, m.src, m.st, m.bodyHeight())
	}
	if !typing && msg.String() == "q" {
		return tea.Quit
	}
	if !typing && m.opts.fleet() && key.Matches(msg, Keys.Clusters) {
		m.openPanel()
		return nil
	}
	cmd, open := m.list.update(msg, m.bodyHeight()-1)
	if open {
		if g, ok := m.list.selected(); ok {
			m.detail = newDetail(g)
			m.detail.showCluster = m.opts.fleet()
			return tea.Batch(cmd, m.detail.fetch(m.src, m.opts.timeout()), m.detail.fetchHistory(m.src, m.opts))
		}
	}
	return cmd
}

func (m *Model) closeDetail() {
	if m.detail != nil {
		m.detail.stopFollow()
		m.detail = nil
	}
}

// View renders the screen; the alternate screen is left on quit.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "crashlens"
	return v
}

func (m *Model) render() string {
	if m.w < 20 || m.h < 5 {
		return ansi.Truncate("crashlens: terminal too small", m.w, "")
	}
	now := m.now()
	var body string
	switch {
	case m.help:
		body = m.helpView()
	case m.panel != nil:
		body = m.panelView(now)
	case m.detail != nil:
		body = m.detail.view(m.st, m.w, m.bodyHeight(), now)
	default:
		body = m.list.screen(m.st, m.opts, m.w, m.bodyHeight(), now)
	}
	lines := strings.Split(body, "\n")
	for len(lines) < m.bodyHeight() {
		lines = append(lines, "")
	}
	lines = lines[:m.bodyHeight()]
	return strings.Join(lines, "\n") + "\n" + m.statusBar(now) + "\n" + m.helpBar()
}

func (m *Model) statusBar(now time.Time) string {
	v := m.list.view
	state := v.State.String()
	switch v.State.Phase {
	case crash.PhaseSynced:
		state = m.st.OK.Render(state)
	case crash.PhaseForbidden, crash.PhaseReconnecting:
		state = m.st.Error.Render(state)
	default:
		state = m.st.Warning.Render(state)
	}
	age := "-"
	if !m.list.updated.IsZero() {
		age = report.Ago(m.list.updated, now) + " ago"
	}
	ro := ""
	if m.opts.Readonly {
		ro = " · read-only"
	}
	s := fmt.Sprintf(" %s · %s · %s · %d crashing / %s watched · sort %s · updated %s%s ",
		sanitize.Line(cmp.Or(m.opts.Context, "-")), m.opts.Scope, state, v.Crashing, thousands(v.Watched), sortNames[m.list.sortBy], age, ro)
	if m.opts.fleet() {
		// Each cluster's state; the panel (C) has the full lines.
		s = fmt.Sprintf(" %s · %d crashing / %s watched · sort %s · updated %s%s ",
			m.fleetStatus(), v.Crashing, thousands(v.Watched), sortNames[m.list.sortBy], age, ro)
	}
	if v.Note != "" && !m.opts.fleet() {
		s += "· " + sanitize.Line(v.Note) + " "
	}
	if m.ended {
		s += m.st.Error.Render("· watch ended ")
	}
	return ansi.Truncate(m.st.Selected.Render(ansi.Strip(s)), m.w, "…")
}

func thousands(n int) string {
	s := itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// helpBar shows the keys that work where the focus is.
func (m *Model) helpBar() string {
	var bs []key.Binding
	switch {
	case m.detail != nil:
		// The focused pane's own keys, then the screen's.
		bs = append([]key.Binding{Keys.NextPane, Keys.Zoom}, m.detail.pane(m.detail.focus).Help()...)
		if m.detail.following {
			bs = append(bs, Keys.Pause, Keys.Wrap)
		}
		if !m.opts.Readonly { // --readonly: s only says why it does nothing
			bs = append(bs, Keys.Shell)
		}
		bs = append(bs, Keys.Logs, Keys.Describe, Keys.Copy, Keys.Report, Keys.Container, Keys.Back, Keys.Help)
	case m.list.filtering:
		return ansi.Truncate(" type to filter · enter open · ↑/↓ move · esc clear", m.w, "…")
	case m.panel != nil:
		return ansi.Truncate(" ↑/↓ move · enter show only this · esc close", m.w, "…")
	default:
		bs = []key.Binding{Keys.Filter, Keys.Open, Keys.Down, Keys.Sort, Keys.Expand, Keys.Recent, Keys.Help, Keys.Back}
		if m.opts.fleet() {
			bs = append(bs[:6:6], append([]key.Binding{Keys.Clusters}, bs[6:]...)...)
		}
	}
	var parts []string
	for _, b := range bs {
		parts = append(parts, m.st.Key.Render(b.Help().Key)+" "+b.Help().Desc)
	}
	return ansi.Truncate(" "+strings.Join(parts, " · "), m.w, "…")
}

func (m *Model) helpView() string {
	var b strings.Builder
	b.WriteString(m.st.Title.Render("crashlens keys") + "  (any key closes)\n\n")
	for _, sec := range []struct {
		name string
		bs   []key.Binding
	}{
		{"everywhere", []key.Binding{Keys.Quit, Keys.Back, Keys.Help}},
		{"list", []key.Binding{Keys.Filter, Keys.Open, Keys.Up, Keys.Down, Keys.PageUp, Keys.PageDown, Keys.Top, Keys.Bottom, Keys.Sort, Keys.Expand, Keys.Recent, Keys.Clusters}},
		{"detail", []key.Binding{Keys.NextPane, Keys.PrevPane, Keys.Zoom, Keys.Shell, Keys.Logs, Keys.Describe, Keys.Copy, Keys.Report, Keys.Container}},
		{"log pane", []key.Binding{Keys.Search, Keys.SearchNext, Keys.SearchPrev, Keys.Pause, Keys.Wrap}},
		{"history pane", []key.Binding{Keys.Open}},
	} {
		b.WriteString(m.st.Header.Render(sec.name) + "\n")
		for _, k := range sec.bs {
			desc := k.Help().Desc
			if m.opts.Readonly && k.Help().Key == Keys.Shell.Help().Key {
				desc += " (off: --readonly)"
			}
			if !m.opts.fleet() && k.Help().Key == Keys.Clusters.Help().Key {
				desc += " (with several contexts)"
			}
			fmt.Fprintf(&b, "  %-12s %s\n", k.Help().Key, desc)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Run runs the TUI until the user quits.
func Run(ctx context.Context, src Source, o Options, in io.Reader, out io.Writer) error {
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(frameRate)}
	if in != nil {
		opts = append(opts, tea.WithInput(in))
	}
	if out != nil {
		opts = append(opts, tea.WithOutput(out))
	}
	_, err := tea.NewProgram(New(src, o), opts...).Run()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil
	}
	return err
}
