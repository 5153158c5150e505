package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// detailTimeout bounds gathering one pod's detail (3× --request-timeout
// when that is longer; see Options.timeout).
const detailTimeout = 20 * time.Second

// Panes of the detail screen, in tab order.
const (
	paneDiagnosis = iota
	paneExit
	paneEvents
	paneLogs
	paneProbes
	paneCount
)

var paneTitles = [paneCount]string{"Diagnosis", "Exit code", "Events", "Previous logs", "Probes"}

// incidentMsg is a gathered pod, tagged with its UID: a late answer for
// another pod is dropped.
type incidentMsg struct {
	uid string
	inc kube.Incident
	err error
}

// followMsg carries lines of a live log tail.
type followMsg struct {
	uid   string
	lines []string
	done  bool
}

type detailModel struct {
	group     kube.Group
	pod       diagnose.CrashPod
	container string
	restarts  int32 // restart count the data was gathered at
	inc       *kube.Incident
	rep       *diagnose.Report
	panes     [paneCount]*pane
	focus     int
	zoom      bool
	builtW    int
	notice    string
	confirm   bool // s pressed on a dead container: press again to debug
	searching bool
	search    textinput.Model
	// live tail
	following bool
	paused    bool
	wrap      bool
	tail      []string
	cancel    context.CancelFunc
	followCh  chan followMsg
}

func newDetail(g kube.Group) *detailModel {
	d := &detailModel{group: g, pod: g.Pods[0], container: g.Container, restarts: g.Pods[0].Restarts}
	for i := range d.panes {
		d.panes[i] = &pane{title: paneTitles[i], loading: true, searchable: i == paneLogs}
	}
	d.search = textinput.New()
	d.search.Prompt = "search log: "
	steadyCursor(&d.search)
	return d
}

func (d *detailModel) fetch(src Source, timeout time.Duration) tea.Cmd {
	uid, ns, name, container := d.pod.UID, d.pod.Namespace, d.pod.Name, d.container
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		inc, err := src.Gather(ctx, ns, name, container)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("pod %s/%s: the API server did not answer within %s", ns, name, timeout)
		}
		return incidentMsg{uid: uid, inc: inc, err: err}
	}
}

// setIncident diagnoses the gathered data and fills the panes.
// onIncident shows what a fetch gathered, unless it is a late answer for
// another pod.
func (d *detailModel) onIncident(msg incidentMsg, tmpl *diagnose.Template, now time.Time) {
	if msg.uid != d.pod.UID {
		return
	}
	if msg.err == nil && msg.inc.Pod == nil {
		msg.err = fmt.Errorf("no pod data came back")
	}
	if msg.err != nil {
		for _, p := range d.panes {
			p.setError(sanitize.Line(msg.err.Error()))
		}
		return
	}
	d.setIncident(msg.inc, tmpl, now)
}

// onFollow appends a live tail's lines and waits for the next ones.
func (d *detailModel) onFollow(msg followMsg, st theme.Styles) tea.Cmd {
	if !d.following || (msg.uid != "" && msg.uid != d.pod.UID) {
		return nil
	}
	d.tail = append(d.tail, msg.lines...)
	if len(d.tail) > maxTail {
		d.tail = d.tail[len(d.tail)-maxTail:]
	}
	d.showTail(st)
	if msg.done {
		return nil
	}
	return waitFollow(d.followCh)
}

// onBatch gathers the pod anew when the batch says it restarted again.
func (d *detailModel) onBatch(b kube.Batch, src Source, timeout time.Duration) tea.Cmd {
	for _, g := range b.Upserted {
		for _, p := range g.Pods {
			if p.UID == d.pod.UID && p.Restarts > d.restarts {
				d.pod, d.restarts = p, p.Restarts
				return d.fetch(src, timeout)
			}
		}
	}
	return nil
}

func (d *detailModel) setIncident(inc kube.Incident, tmpl *diagnose.Template, now time.Time) {
	r := diagnose.Diagnose(inc.Input(tmpl, now))
	d.inc, d.rep, d.builtW = &inc, &r, 0
}

// build (re)renders the panes' lines for a content width.
func (d *detailModel) build(st theme.Styles, w int, now time.Time) {
	if d.rep == nil || d.builtW == w {
		return
	}
	d.builtW = w
	r, inc := d.rep, d.inc
	wrap := func(s string, indent string) []string {
		return strings.Split(lipgloss.NewStyle().Width(max(w-len(indent), 10)).Render(sanitize.Line(s)), "\n")
	}
	indentAll := func(lines []string, indent string) []string {
		// The first line carries the marker ("• "); the rest align under it.
		for i := range lines {
			if i == 0 {
				lines[i] = indent + lines[i]
			} else {
				lines[i] = strings.Repeat(" ", lipgloss.Width(indent)) + lines[i]
			}
		}
		return lines
	}

	var diag []string
	for i, f := range r.Findings {
		sev := st.Warning
		if f.Severity == diagnose.SeverityError {
			sev = st.Error
		} else if f.Severity == diagnose.SeverityInfo {
			sev = st.Muted
		}
		diag = append(diag, sev.Render(fmt.Sprintf("%d. %s", i+1, f.ID))+st.Muted.Render(" ("+f.Category+", "+f.Severity+")"))
		diag = append(diag, indentAll(wrap(f.Verdict, "   "), "   ")...)
		for _, e := range f.Evidence {
			diag = append(diag, indentAll(wrap(e.Source+": "+sanitize.Truncate(e.Quote, 300), "   • "), "   • ")...)
		}
		if f.Fix.Text != "" {
			diag = append(diag, indentAll(wrap("fix: "+f.Fix.Text, "   "), "   ")...)
		}
		diag = append(diag, "")
	}
	d.panes[paneDiagnosis].setLines(diag)

	var exit []string
	if e := r.Exit; e != nil {
		exit = append(exit, st.Header.Render(fmt.Sprintf("exit %d  %s  killed by %s", e.Code, e.Meaning, e.Killer)))
		exit = append(exit, wrap(e.Explanation, "")...)
		exit = append(exit, "", fmt.Sprintf("reason %s · ran %s", cmp.Or(e.Reason, "-"), report.Ago(e.StartedAt, e.FinishedAt)))
		if e.Message != "" {
			exit = append(exit, "termination message:")
			exit = append(exit, indentAll(wrap(e.Message, "  "), "  ")...)
		}
	} else {
		exit = append(exit, "The container has not terminated: "+sanitize.Line(r.State))
	}
	d.panes[paneExit].setLines(exit)

	var evs []string
	switch {
	case inc.EventsErr != nil:
		d.panes[paneEvents].setError("events: " + sanitize.Line(inc.EventsErr.Error()))
	default:
		for _, e := range r.Events {
			line := fmt.Sprintf("%-6s %-9s %-18s %s %s", report.Ago(e.Last, now), sanitize.Line(e.Type), sanitize.Line(e.Reason),
				sanitize.Line(e.Message), e.Repeat())
			if e.Type == "Warning" {
				line = st.Warning.Render(line)
			}
			evs = append(evs, line)
		}
		if len(evs) == 0 {
			evs = []string{st.Muted.Render("no events (they expire after an hour by default)")}
		}
		d.panes[paneEvents].setLines(evs)
	}

	if d.following {
		d.showTail(st)
	} else {
		d.panes[paneLogs].title = paneTitles[paneLogs]
		switch {
		case inc.PreviousLogErr != nil:
			d.panes[paneLogs].setError(sanitize.Line(inc.PreviousLogErr.Error()))
		case strings.TrimSpace(inc.PreviousLog) == "":
			d.panes[paneLogs].setLines([]string{st.Muted.Render("the previous instance's log is empty: it crashed before any output (look at the command or image), or the kubelet rotated a large log away")})
		default:
			lines := strings.Split(strings.TrimRight(sanitize.Text(inc.PreviousLog), "\n"), "\n")
			first := -1
			if r.Log.FirstError != nil {
				first = r.Log.FirstError.Line - 1
			}
			for i := range lines {
				lines[i] = strings.ReplaceAll(lines[i], "\t", "    ")
				if i == first {
					lines[i] = st.Error.Render(lines[i])
				}
			}
			d.panes[paneLogs].setLines(lines)
		}
	}

	var probes []string
	if len(r.Probes.Changes) == 0 {
		probes = append(probes, sanitize.Line(cmp.Or(r.Probes.Note, "-")))
	} else {
		for _, c := range r.Probes.Changes {
			probes = append(probes, indentAll(wrap(fmt.Sprintf("%s %s: %s → %s (%s)", c.Probe, c.Field, c.From, c.To, c.Reason), "• "), "• ")...)
		}
		probes = append(probes, "")
		for _, l := range strings.Split(strings.TrimRight(r.Probes.Diff, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "+"):
				l = st.Added.Render(l)
			case strings.HasPrefix(l, "-"):
				l = st.Removed.Render(l)
			}
			probes = append(probes, l)
		}
		probes = append(probes, "", st.Header.Render("patch for "+r.Probes.Target+" (y copies it):"))
		probes = append(probes, strings.Split(strings.TrimRight(r.Probes.Patch, "\n"), "\n")...)
	}
	d.panes[paneProbes].setLines(probes)
}

// header is the pod, its owners and the back-off countdown.
func (d *detailModel) header(st theme.Styles, w int, now time.Time) []string {
	p := d.pod
	l1 := st.Title.Render(sanitize.Line(p.Namespace+"/"+p.Name)) + "  on " + sanitize.Line(cmp.Or(p.Node, "-"))
	owners := sanitize.Line(p.Owner)
	image := ""
	if d.inc != nil {
		owners = sanitize.Line(strings.Join(d.inc.Owners.Chain, " ← "))
		for _, c := range kube.Containers(d.inc.Pod) {
			if c.Name == d.container {
				image = sanitize.Line(c.Image)
			}
		}
	}
	l2 := "owner " + cmp.Or(owners, "-") + "  image " + cmp.Or(image, "-")
	l3 := fmt.Sprintf("container %s (c: next)  restarts %d  state %s", sanitize.Line(d.container), p.Restarts, sanitize.Line(p.State))
	if d.rep != nil {
		l3 = fmt.Sprintf("container %s (c: next)  restarts %d  state %s", sanitize.Line(d.container), d.rep.Restarts, sanitize.Line(d.rep.State))
		if t := d.rep.Backoff; t != nil {
			next := "-"
			if !t.NextRestart.IsZero() {
				next = report.In(t.NextRestart, now)
			}
			reset := "never resets at this pace"
			if t.WillReset {
				reset = "will reset"
			}
			l3 += fmt.Sprintf("  back-off: next restart %s (delay %s, cap %s, %s)", next,
				report.Age(time.Duration(t.DelaySeconds*float64(time.Second))), report.Age(time.Duration(t.CapSeconds*float64(time.Second))), reset)
		}
	}
	out := []string{l1, l2, l3}
	for i := range out {
		out[i] = ansi.Truncate(out[i], w, "…")
	}
	return out
}

// view lays the panes out in w x h (header included).
func (d *detailModel) view(st theme.Styles, w, h int, now time.Time) string {
	head := d.header(st, w, now)
	if d.notice != "" {
		head = append(head, st.Warning.Render(ansi.Truncate(sanitize.Line(d.notice), w, "…")))
	}
	if d.searching {
		head = append(head, d.search.View())
	}
	h -= len(head)
	d.build(st, max(w/2-2, 20), now)
	if h < 3 {
		return strings.Join(head, "\n")
	}
	var body string
	switch {
	case d.zoom || w < 90 || h < 16:
		// One pane at a time, with a tab line to say where the others are.
		var tabs []string
		for i, t := range paneTitles {
			if i == d.focus {
				tabs = append(tabs, st.Selected.Render(" "+t+" "))
			} else {
				tabs = append(tabs, " "+t+" ")
			}
		}
		d.buildFull(st, w-2, now)
		body = ansi.Truncate(strings.Join(tabs, "│"), w, "…") + "\n" + d.pane(d.focus).View(st, w, h-1, true)
	default:
		left, right := w/2, w-w/2
		h1 := max(h*3/10, 5)
		h2 := max(h*25/100, 4)
		h3 := h - h1 - h2
		row := func(a, b int, hh int) string {
			return lipgloss.JoinHorizontal(lipgloss.Top, d.pane(a).View(st, left, hh, d.focus == a), d.pane(b).View(st, right, hh, d.focus == b))
		}
		body = row(paneDiagnosis, paneExit, h1) + "\n" + d.pane(paneEvents).View(st, w, h2, d.focus == paneEvents) + "\n" + row(paneLogs, paneProbes, h3)
	}
	return strings.Join(head, "\n") + "\n" + body
}

// pane is pane i as the layout sees it.
func (d *detailModel) pane(i int) Pane { return d.panes[i] }

// buildFull rebuilds for a full-width pane (zoom, narrow terminals).
func (d *detailModel) buildFull(st theme.Styles, w int, now time.Time) {
	if d.builtW != w {
		d.builtW = -1
		d.build(st, w, now)
	}
}

func (d *detailModel) paneHeight(h int) int { return max(h-8, 3) }

// startFollow begins a live tail of the current container in the log pane.
func (d *detailModel) startFollow(src Source) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.following, d.paused, d.tail = cancel, true, false, nil
	ch := make(chan followMsg, 64)
	d.followCh = ch
	uid, ns, name, container := d.pod.UID, d.pod.Namespace, d.pod.Name, d.container
	go func() {
		defer close(ch)
		err := src.Follow(ctx, ns, name, container, func(line string) {
			select {
			case ch <- followMsg{uid: uid, lines: []string{line}}:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			ch <- followMsg{uid: uid, lines: []string{"follow stopped: " + err.Error()}, done: true}
		}
	}()
	return waitFollow(ch)
}

// waitFollow delivers what arrived on the tail, batched.
func waitFollow(ch chan followMsg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return followMsg{done: true}
		}
		for len(m.lines) < 500 {
			select {
			case more, ok := <-ch:
				if !ok {
					return m
				}
				m.lines = append(m.lines, more.lines...)
			default:
				return m
			}
		}
		return m
	}
}

func (d *detailModel) stopFollow() {
	if d.cancel != nil {
		d.cancel()
	}
	d.following, d.cancel = false, nil
	d.builtW = 0
}

// maxTail bounds the live tail kept in memory.
const maxTail = 5000

func (d *detailModel) showTail(st theme.Styles) {
	state := "following"
	if d.paused {
		state = "paused (p)"
	}
	p := d.panes[paneLogs]
	p.title = "Live log: " + state
	w := d.builtW
	var lines []string
	for _, l := range d.tail {
		l = strings.ReplaceAll(sanitize.Line(l), "\t", "    ")
		if d.wrap && w > 10 {
			lines = append(lines, strings.Split(lipgloss.NewStyle().Width(w).Render(l), "\n")...)
		} else {
			lines = append(lines, l)
		}
	}
	atEnd := p.offset >= len(p.lines)-10
	p.setLines(lines)
	if atEnd && !d.paused {
		p.offset = max(len(p.lines)-10, 0)
	}
}

// jumps: exec, debug, describe. They run kubectl in the foreground through
// tea.ExecProcess; the TUI suspends and comes back where it was.
func (d *detailModel) shell(o Options) (tea.Cmd, string) {
	if o.Readonly {
		return nil, "read-only mode (--readonly): exec and debug are disabled"
	}
	if o.Kubectl == "" {
		return nil, kube.ErrNoKubectl.Error()
	}
	running := d.pod.Running || d.pod.State == "Restarted"
	if d.inc != nil {
		for _, cs := range append(toStatus(d.inc.Pod.Status.InitContainerStatuses), toStatus(d.inc.Pod.Status.ContainerStatuses)...) {
			if cs.name == d.container {
				running = cs.running
			}
		}
	}
	if running {
		cmd := exec.Command(o.Kubectl, o.Args.Exec(d.pod.Namespace, d.pod.Name, d.container)...)
		return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("exec", err)) }), ""
	}
	if !d.confirm {
		d.confirm = true
		return nil, "container " + d.container + " is not running, so exec cannot work: press s again for kubectl debug (an ephemeral busybox sharing its process namespace)"
	}
	d.confirm = false
	cmd := exec.Command(o.Kubectl, o.Args.DebugEphemeral(d.pod.Namespace, d.pod.Name, d.container, o.DebugImage)...)
	return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("debug", err)) }), ""
}

func (d *detailModel) describe(o Options) (tea.Cmd, string) {
	if o.Kubectl == "" {
		return nil, kube.ErrNoKubectl.Error()
	}
	argv := o.Args.Describe(d.pod.Namespace, d.pod.Name)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := "'" + o.Kubectl + "' " + strings.Join(quoted, " ") + ` 2>&1 | ${PAGER:-less -R} || true`
	if _, err := exec.LookPath("less"); err != nil && os.Getenv("PAGER") == "" {
		script = "'" + o.Kubectl + "' " + strings.Join(quoted, " ") + ` 2>&1 | more`
	}
	cmd := exec.Command("sh", "-c", script)
	return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("describe", err)) }), ""
}

// copyFix puts the probe patch, else the top fix, on the clipboard (OSC 52).
func (d *detailModel) copyFix() (tea.Cmd, string) {
	if d.rep == nil {
		return nil, "nothing to copy yet"
	}
	text, what := "", ""
	switch {
	case d.rep.Probes.PatchCommand != "":
		text, what = d.rep.Probes.PatchCommand, "the kubectl patch command"
	case d.rep.Probes.Patch != "":
		text, what = d.rep.Probes.Patch, "the probe patch"
	case len(d.rep.Findings) > 0 && d.rep.Findings[0].Fix.Patch != "":
		text, what = d.rep.Findings[0].Fix.Patch, "the fix patch"
	case len(d.rep.Findings) > 0:
		text, what = d.rep.Findings[0].Fix.Text, "the fix"
	}
	if text == "" {
		return nil, "nothing to copy"
	}
	return tea.SetClipboard(text), "copied " + what + " to the clipboard (OSC 52)"
}

// writeReport writes the incident report next to where crashlens runs.
func (d *detailModel) writeReport(version string) string {
	if d.inc == nil || d.rep == nil {
		return "nothing to report yet"
	}
	name := fmt.Sprintf("crashlens-%s-%s-%s.md", d.pod.Namespace, d.pod.Name, time.Now().UTC().Format("20060102-150405"))
	f, err := os.Create(name)
	if err != nil {
		return "cannot write the report: " + err.Error()
	}
	defer f.Close()
	if err := report.Markdown(f, *d.inc, *d.rep, time.Now(), version); err != nil {
		return "cannot write the report: " + err.Error()
	}
	abs, _ := filepath.Abs(name)
	return "report written to " + abs
}

type noticeMsg string

func resultText(what string, err error) string {
	if err != nil {
		return what + " ended: " + err.Error()
	}
	return what + " ended"
}

// update handles the detail screen's keys.
func (d *detailModel) update(msg tea.KeyPressMsg, o Options, src Source, st theme.Styles, h int) tea.Cmd {
	if d.searching {
		switch msg.String() {
		case "enter":
			d.searching = false
			d.panes[paneLogs].search(d.search.Value())
			return nil
		case "esc":
			d.searching = false
			return nil
		}
		var cmd tea.Cmd
		d.search, cmd = d.search.Update(msg)
		return cmd
	}
	d.notice = ""
	if msg.String() != "s" {
		d.confirm = false
	}
	p := d.panes[d.focus]
	switch {
	case key.Matches(msg, Keys.NextPane):
		d.focus = (d.focus + 1) % paneCount
	case key.Matches(msg, Keys.PrevPane):
		d.focus = (d.focus + paneCount - 1) % paneCount
	case key.Matches(msg, Keys.Zoom):
		d.zoom = !d.zoom
	case key.Matches(msg, Keys.Shell):
		cmd, note := d.shell(o)
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Logs):
		if d.following {
			d.stopFollow()
			return nil
		}
		d.focus = paneLogs
		return d.startFollow(src)
	case key.Matches(msg, Keys.Describe):
		cmd, note := d.describe(o)
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Copy):
		cmd, note := d.copyFix()
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Report):
		d.notice = d.writeReport(o.Version)
	case key.Matches(msg, Keys.Container):
		return d.nextContainer(src, o)
	case d.focus == paneLogs && key.Matches(msg, Keys.Search):
		d.searching = true
		d.search.SetValue("")
		return d.search.Focus()
	case d.focus == paneLogs && key.Matches(msg, Keys.SearchNext):
		p.next(1)
	case d.focus == paneLogs && key.Matches(msg, Keys.SearchPrev):
		p.next(-1)
	case d.focus == paneLogs && d.following && key.Matches(msg, Keys.Pause):
		d.paused = !d.paused
		d.showTail(st)
	case d.focus == paneLogs && d.following && key.Matches(msg, Keys.Wrap):
		d.wrap = !d.wrap
		d.showTail(st)
	default:
		d.pane(d.focus).Update(msg, d.paneHeight(h))
	}
	return nil
}

// nextContainer switches to the pod's next container and gathers it.
func (d *detailModel) nextContainer(src Source, o Options) tea.Cmd {
	if d.inc == nil {
		return nil
	}
	var names []string
	for _, c := range kube.Containers(d.inc.Pod) {
		names = append(names, c.Name)
	}
	for i, n := range names {
		if n == d.container {
			d.container = names[(i+1)%len(names)]
			break
		}
	}
	d.stopFollow()
	for i := range d.panes {
		d.panes[i].loading = true
	}
	d.rep = nil
	return d.fetch(src, o.timeout())
}
