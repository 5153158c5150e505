package ui

// Rendering of the detail screen: the header and the five panes, built
// from the diagnosis once per size and theme.

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// build (re)renders the panes' lines for a content width.
func (d *detailModel) build(st theme.Styles, w int, now time.Time) {
	if d.builtW == w {
		return
	}
	// The ledger answers on its own, before or after the cluster does.
	d.panes[paneHistory].setLines(d.historyLines(st, now))
	if d.rep == nil {
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
		exit = append(exit, st.Header.Render(fmt.Sprintf("exit %s  killed by %s", report.ExitText(e.Code, e.Meaning), e.Killer)))
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
	if d.showCluster {
		l1 += "  cluster " + sanitize.Line(d.group.Cluster)
	}
	owners := sanitize.Line(p.Owner)
	image := ""
	if d.inc != nil {
		owners = sanitize.Line(strings.Join(d.inc.Owners.Chain, " ← "))
		for _, c := range crash.Containers(d.inc.Pod) {
			if c.Name == d.container {
				image = sanitize.Line(c.Image)
			}
		}
	}
	l2 := "owner " + cmp.Or(owners, "-") + "  image " + cmp.Or(image, "-")
	restarts, state, role := p.Restarts, p.State, ""
	if d.rep != nil {
		restarts, state = d.rep.Restarts, d.rep.State
		// What the container is to its pod decides what its crash does:
		// a native sidecar's leaves the app running, an init step's keeps
		// it from starting.
		switch {
		case d.rep.Pod.Sidecar:
			role = "native sidecar; "
		case d.rep.Pod.Init:
			role = "init step; "
		}
	}
	l3 := fmt.Sprintf("container %s (%sc: next)  restarts %d  state %s", sanitize.Line(d.container), role, restarts, sanitize.Line(state))
	// Read once a frame: the countdown and the strip show the same curve.
	t := d.timeline()
	if t != nil {
		next := "-"
		if !t.NextRestart.IsZero() {
			next = report.In(t.NextRestart, now)
		}
		reset := "never resets at this pace"
		if t.WillReset {
			reset = "will reset"
		}
		delay := report.Age(time.Duration(t.DelaySeconds * float64(time.Second)))
		if t.DelaySource == diagnose.DelayObserved {
			delay += " as observed; not the default curve"
		}
		l3 += fmt.Sprintf("  back-off: next restart %s (delay %s, cap %s, %s)", next, delay, t.CapText(), reset)
	}
	out := []string{l1, l2, l3}
	if strip := d.restartStrip(st, now, t); strip != "" {
		out = append(out, strip)
	}
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
		// The middle row is the events, full width (their messages are
		// long); the History pane takes their place while it has the focus.
		middle := paneEvents
		if d.focus == paneHistory {
			middle = paneHistory
		}
		body = row(paneDiagnosis, paneExit, h1) + "\n" + d.pane(middle).View(st, w, h2, d.focus == middle) + "\n" + row(paneLogs, paneProbes, h3)
	}
	return strings.Join(head, "\n") + "\n" + body
}

// buildFull rebuilds for a full-width pane (zoom, narrow terminals).
func (d *detailModel) buildFull(st theme.Styles, w int, now time.Time) {
	if d.builtW != w {
		d.builtW = -1
		d.build(st, w, now)
	}
}

func (d *detailModel) paneHeight(h int) int { return max(h-8, 3) }
