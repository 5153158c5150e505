package ui

// The History pane and the header's restart strip: what the crash ledger
// remembers of the selected workload's container, past the kubelet's one
// previous log and the events' hour.

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// historyLimit bounds the rows the pane reads (the ledger's index makes
// this one range scan).
const historyLimit = 200

// historyRefetch: after a restart the capture of the crash lands within a
// few seconds (it waits for the kubelet's events to settle); the pane
// looks again then.
const historyRefetch = 4 * time.Second

// historyMsg is the ledger's rows for a detail screen's pod and container.
type historyMsg struct {
	uid, container string
	rows           []ledger.Crash
	source         string
	err            error
}

// historyAgainMsg asks for the rows again (after a restart's capture).
type historyAgainMsg struct{ uid string }

// history is the detail screen's view of the ledger.
type history struct {
	rows   []ledger.Crash
	source string // where the rows come from (Source.History)
	err    error
	loaded bool
	sel    int  // the selected row
	open   bool // the selected row's stored log and events are shown
}

func (d *detailModel) fetchHistory(src Source, o Options) tea.Cmd {
	uid, container := d.pod.UID, d.container
	q := ledger.Query{Context: cmp.Or(d.group.Cluster, o.Context), Namespace: d.pod.Namespace, Workload: d.pod.Owner, Container: container, Limit: historyLimit}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout())
		defer cancel()
		rows, source, err := src.History(ctx, q)
		return historyMsg{uid: uid, container: container, rows: rows, source: source, err: err}
	}
}

// onHistory shows the rows, unless they are for another pod or container.
func (d *detailModel) onHistory(msg historyMsg) {
	if msg.uid != d.pod.UID || msg.container != d.container {
		return
	}
	sel := d.hist.sel
	if len(d.hist.rows) > 0 && len(msg.rows) > 0 && sel < len(d.hist.rows) {
		// Keep the selection on the same crash when newer ones arrive (the
		// same container instance: rows of two ledgers share no ID).
		sel = 0
		was := d.hist.rows[d.hist.sel]
		for i, r := range msg.rows {
			if r.PodUID == was.PodUID && r.Container == was.Container && r.Restart == was.Restart {
				sel = i
			}
		}
	}
	d.hist = history{rows: msg.rows, source: msg.source, err: msg.err, loaded: true, sel: min(sel, max(len(msg.rows)-1, 0)), open: d.hist.open}
	d.builtW = 0
}

// historyKey handles a key while the History pane has the focus; false
// when the key is not the pane's.
func (d *detailModel) historyKey(msg tea.KeyPressMsg, height int) bool {
	p := d.panes[paneHistory]
	switch {
	case d.hist.open:
		if key.Matches(msg, Keys.Open) {
			d.hist.open = false
			p.offset = max(d.hist.sel-2, 0)
			d.builtW = 0
			return true
		}
		return false // scrolling the record is the pane's
	case len(d.hist.rows) == 0:
		return false
	case key.Matches(msg, Keys.Open):
		d.hist.open = true
		p.offset = 0
		d.builtW = 0
		return true
	case key.Matches(msg, Keys.Down):
		d.hist.sel = min(d.hist.sel+1, len(d.hist.rows)-1)
	case key.Matches(msg, Keys.Up):
		d.hist.sel = max(d.hist.sel-1, 0)
	case key.Matches(msg, Keys.PageDown):
		d.hist.sel = min(d.hist.sel+max(height-1, 1), len(d.hist.rows)-1)
	case key.Matches(msg, Keys.PageUp):
		d.hist.sel = max(d.hist.sel-max(height-1, 1), 0)
	case key.Matches(msg, Keys.Top):
		d.hist.sel = 0
	case key.Matches(msg, Keys.Bottom):
		d.hist.sel = len(d.hist.rows) - 1
	default:
		return false
	}
	// Keep the selected row in view (the title line, and the source line
	// when there is one, above the rows).
	line := d.hist.sel + 1
	if d.hist.source != "" {
		line++
	}
	if line < p.offset {
		p.offset = line
	} else if line >= p.offset+height {
		p.offset = line - height + 1
	}
	d.builtW = 0
	return true
}

// closeRecord closes an open record of the History pane (esc goes back
// to the rows before it leaves the screen).
func (d *detailModel) closeRecord() bool {
	if d.focus != paneHistory || !d.hist.open {
		return false
	}
	d.hist.open = false
	d.builtW = 0
	return true
}

// historyLines renders the pane: the rows, newest first, or the selected
// row's stored record.
func (d *detailModel) historyLines(st theme.Styles, now time.Time) []string {
	h := d.hist
	switch {
	case !h.loaded:
		return []string{st.Muted.Render("loading…")}
	case h.err != nil:
		return []string{st.Warning.Render(sanitize.Line(h.err.Error()))}
	case len(h.rows) == 0:
		return []string{st.Muted.Render("no crash of this container recorded yet: the ledger records while crashlens runs")}
	case h.open:
		return recordLines(st, h.rows[h.sel], now)
	}
	// Newest first; what ended each instance before who ended it, the pod
	// only when its ReplicaSet replaced it since.
	var lines []string
	if h.source != "" {
		lines = append(lines, st.Muted.Render(sanitize.Line(h.source)))
	}
	lines = append(lines, st.Header.Render(fmt.Sprintf("  %-6s %-5s %-11s %-22s %-20s %s", "AGO", "RAN", "EXIT", "CAUSE", "KILLER", "POD · FIRST ERROR")))
	for i, r := range h.rows {
		pod := "this pod"
		if r.PodUID != d.pod.UID {
			pod = r.Pod
		}
		if r.FirstError != "" {
			pod += " · " + r.FirstError
		}
		line := fmt.Sprintf("%-6s %-5s %-11s %-22s %-20s %s", report.Ago(r.FinishedAt, now), runText(r), report.RowExit(r),
			cmp.Or(r.Cause, r.TopFinding, "-"), cmp.Or(r.Killer, "-"), pod)
		line = "  " + sanitize.Line(line)
		if i == h.sel && d.focus == paneHistory {
			line = st.Selected.Render("›" + line[1:]) // the mark shows without colour too
		}
		lines = append(lines, line)
	}
	return lines
}

// recordLines is one ledger row: what ended the instance, the events at
// that moment and its log tail, as they were captured.
func recordLines(st theme.Styles, r ledger.Crash, now time.Time) []string {
	out := []string{
		st.Header.Render(sanitize.Line(fmt.Sprintf("%s restart %d · ended %s (%s ago) · ran %s · exit %s · killed by %s", r.Pod, r.Restart,
			r.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"), report.Ago(r.FinishedAt, now), runText(r), report.RowExit(r), cmp.Or(r.Killer, "-")))),
		sanitize.Line("cause: " + cmp.Or(r.Cause, r.TopFinding, "-")),
	}
	if r.Message != "" {
		out = append(out, sanitize.Line("termination message: "+r.Message))
	}
	out = append(out, "", st.Header.Render("events then"))
	if r.Events == "" {
		out = append(out, st.Muted.Render("none captured"))
	}
	for _, l := range strings.Split(strings.TrimRight(r.Events, "\n"), "\n") {
		if l != "" {
			out = append(out, sanitize.Line(l))
		}
	}
	out = append(out, "", st.Header.Render("its log (the last lines, as captured)"))
	switch {
	case r.LogNote != "":
		out = append(out, st.Warning.Render(sanitize.Line(r.LogNote)))
	case strings.TrimSpace(r.LogTail) == "":
		out = append(out, st.Muted.Render("empty"))
	default:
		for _, l := range strings.Split(strings.TrimRight(sanitize.Text(r.LogTail), "\n"), "\n") {
			out = append(out, strings.ReplaceAll(l, "\t", "    "))
		}
	}
	out = append(out, "", st.Muted.Render("enter or esc: back to the list of crashes"))
	return out
}

func runText(r ledger.Crash) string {
	if r.RunSeconds <= 0 {
		return "-"
	}
	return report.Age(time.Duration(r.RunSeconds * float64(time.Second)))
}

// restartHistory is the pod's container's runs the ledger holds, the end
// of the oldest, and the back-off they show (report.RestartHistory, which
// the report and explain read too).
func (d *detailModel) restartHistory() ([]diagnose.Run, time.Time, diagnose.RestartHistory) {
	var t *diagnose.Timeline
	if d.rep != nil {
		t = d.rep.Backoff
	}
	return report.RestartHistory(d.hist.rows, d.pod.UID, d.container, t)
}

// timeline is the report's back-off timeline, following the waits the
// ledger observed when they disagree with the assumed curve: the same
// report.Backoff the Markdown report and explain show. nil without one.
func (d *detailModel) timeline() *diagnose.Timeline {
	if d.rep == nil {
		return nil
	}
	return report.Backoff(*d.rep, d.pod.UID, d.hist.rows)
}

// restartStrip is the header's line for the pod's container: each crash
// the ledger holds as a mark on a time axis ending now, the waits between
// them next to the back-off the kubelet should have used, and where the
// back-off stands. t is the header's timeline (timeline), nil without
// one. Empty with fewer than two crashes recorded.
func (d *detailModel) restartStrip(st theme.Styles, now time.Time, t *diagnose.Timeline) string {
	runs, first, h := d.restartHistory()
	if len(runs) < 2 {
		return ""
	}
	const axis = 24
	marks := []rune(strings.Repeat("─", axis))
	span := now.Sub(first)
	for _, r := range runs {
		i := axis - 1
		if span > 0 {
			i = int(float64(axis-1) * float64(r.Finished.Sub(first)) / float64(span))
		}
		marks[min(max(i, 0), axis-1)] = '×'
	}
	// The last few waits are what a user compares.
	gaps := h.Gaps[max(len(h.Gaps)-5, 0):]
	var seen, want []string
	for _, g := range gaps {
		seen = append(seen, report.Age(g.Observed))
		want = append(want, report.Age(g.Expected))
	}
	trend := cmp.Or(h.Trend, "-")
	if h.Trend == diagnose.TrendAtCap {
		trend = st.Warning.Render(trend)
	}
	if d.pod.Reason == diagnose.ReasonWholePodRestart {
		// The kubelet restarts a pod its own rule restarts as a whole at
		// once, with no crash-loop back-off: there is no curve to hold
		// the waits to.
		return fmt.Sprintf("crashes %s now  waits %s (no back-off: the pod restarts as a whole)", string(marks), strings.Join(seen, " "))
	}
	// Where the node's own curve stands, when the waits are not the
	// assumed curve's: the header's cap would otherwise be the assumed one.
	if t != nil && t.DelaySource == diagnose.DelayObserved {
		trend += " · node's cap " + t.CapText()
	}
	return fmt.Sprintf("crashes %s now  waits %s (back-off %s) · %s", string(marks), strings.Join(seen, " "), strings.Join(want, " "), trend)
}
