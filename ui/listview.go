package ui

// Rendering of the list screen: the rows that fit, their columns (the
// report package defines them for the TUI and `crashlens list` alike) and
// what to say when there are none.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// screen renders the list screen in w x h: the scope note, the filter
// line, then the rows, or what is true when there are none.
func (m *listModel) screen(st theme.Styles, o Options, w, h int, now time.Time) string {
	var top []string
	notes := []string{o.Note, m.view.Note}
	if m.short != nil {
		notes = []string{o.Note}
		for _, name := range o.Clusters {
			if c := m.view.Clusters[name]; c.Note != "" {
				notes = append(notes, m.short[name]+": "+c.Note)
			}
		}
	}
	for _, note := range notes {
		if note != "" {
			top = append(top, st.Warning.Render(ansi.Truncate(sanitize.Line(note), w, "…")))
		}
	}
	if m.cluster != "" {
		top = append(top, st.Header.Render(ansi.Truncate("cluster "+sanitize.Line(m.cluster)+" only (C: every cluster)", w, "…")))
	}
	if m.filtering || m.input.Value() != "" {
		top = append(top, ansi.Truncate(m.input.View(), w, ""))
	}
	if len(m.order) == 0 {
		return strings.Join(append(top, m.emptyText(st, o)), "\n")
	}
	return strings.Join(append(top, m.rowsView(st, w, h-len(top), now)), "\n")
}

// fleetEmptyText says what is true when a fleet run has nothing to list.
func (m *listModel) fleetEmptyText(st theme.Styles, o Options) string {
	answered, live := 0, 0
	for _, name := range o.Clusters {
		c, ok := m.view.Clusters[name]
		if ok && c.State.Phase != crash.PhaseConnecting && c.State.Phase != crash.PhaseSyncing {
			answered++
		}
		if ok && c.State.Phase == crash.PhaseSynced {
			live++
		}
	}
	switch {
	case m.input.Value() != "":
		return st.Muted.Render("no crash group matches the filter (esc clears it)")
	case answered < len(o.Clusters) && live == 0:
		return st.Muted.Render(fmt.Sprintf("syncing… %d of %d clusters answered", answered, len(o.Clusters)))
	case m.cluster != "" && m.view.Clusters[m.cluster].State.Phase != crash.PhaseSynced:
		state := cmp.Or(m.view.Clusters[m.cluster].State.String(), crash.PhaseConnecting)
		return st.Error.Render(fmt.Sprintf("cluster %s: %s", sanitize.Line(m.cluster), sanitize.Line(state)))
	case m.cluster != "":
		return st.OK.Render(fmt.Sprintf("no crashing pods in cluster %s (%s pods watched)", sanitize.Line(m.cluster), thousands(m.view.Clusters[m.cluster].Watched)))
	}
	return st.OK.Render(fmt.Sprintf("no crashing pods in the %d synced of %d clusters (%s pods watched; C shows each cluster's state)", live, len(o.Clusters), thousands(m.view.Watched)))
}

// emptyText says what is true when there is nothing to list.
func (m *listModel) emptyText(st theme.Styles, o Options) string {
	if m.short != nil {
		return m.fleetEmptyText(st, o)
	}
	switch state := m.view.State; {
	case state.Phase == crash.PhaseSyncing:
		return st.Muted.Render("syncing… listing pods")
	case state.Phase == crash.PhaseForbidden:
		return st.Error.Render(state.String())
	case m.input.Value() != "":
		return st.Muted.Render("no crash group matches the filter (esc clears it)")
	}
	return st.OK.Render(fmt.Sprintf("no crashing pods in %s (%s pods watched)", o.Scope, thousands(m.view.Watched)))
}

// rowsView renders the rows that fit in w x h. Column widths follow what
// the drawn rows hold and the terminal's width.
func (m *listModel) rowsView(st theme.Styles, w, h int, now time.Time) string {
	if h < 1 || w < 10 {
		return ""
	}
	body := h - 1
	m.top = min(m.top, max(len(m.order)-1, 0))
	if i := m.index(m.cursor); i >= 0 {
		m.scrollTo(i, body)
	}
	// The rows that fit: with expanded groups, each takes its pods' lines.
	type drawn struct {
		key     string
		r       *row
		cells   []string
		cluster string // the row's cluster, short, in a fleet run
		stale   string // its lost cluster's note ("stale 40s"), or ""
	}
	cellW, nameW := 0, 0 // the CLUSTER column with and without stale notes
	var rows []drawn
	content := make([]int, len(report.Columns))
	for i, c := range report.Columns {
		content[i] = textWidth(c.Title)
	}
	for i, lines := m.top, 0; i < len(m.order) && lines < body; i++ {
		k := m.order[i]
		r := m.rows[k]
		cells := report.Cells(r.group, now)
		if !r.resolved.IsZero() {
			cells[report.ColState] = "resolved"
		}
		for j, c := range cells {
			content[j] = max(content[j], textWidth(c))
		}
		d := drawn{key: k, r: r, cells: cells}
		if m.short != nil {
			d.cluster = sanitize.Line(m.short[r.group.Cluster])
			d.stale = staleness(m.view.Clusters[r.group.Cluster], now)
			nameW = max(nameW, len("CLUSTER"), textWidth(d.cluster))
			cellW = max(cellW, nameW, textWidth(clusterCell(d.cluster, d.stale, true)))
		}
		rows = append(rows, d)
		lines++
		if m.expanded {
			lines += len(r.group.Pods)
		}
	}
	clusterW, widths, notes := fitCluster(w, cellW, nameW, content)
	// Every cell is cut and padded to its width, so a row whose columns
	// fit needs no cutting as a whole (which parses its styles: a good
	// part of each second's frame).
	fits := clusterW+min(clusterW, 1)+rowWidth(widths) <= w
	var b strings.Builder
	var head []string
	if clusterW > 0 {
		head = append(head, pad("CLUSTER", clusterW))
	}
	for i, c := range report.Columns {
		if widths[i] > 0 {
			head = append(head, pad(truncate(c.Title, widths[i], ""), widths[i]))
		}
	}
	b.WriteString(st.Header.Render(ansi.Truncate(strings.Join(head, " "), w, "")) + "\n")
	lines := 0
	for _, d := range rows {
		if lines >= body {
			break
		}
		line := m.renderRow(st, d.r, d.cells, widths)
		if clusterW > 0 {
			line = pad(truncate(clusterCell(d.cluster, d.stale, notes), clusterW, "…"), clusterW) + " " + line
			if d.stale != "" {
				line = st.Muted.Render(ansi.Strip(line)) // not current: the cluster is away
			}
		}
		if d.key == m.cursor {
			line = st.Selected.Render(ansi.Strip(line) + strings.Repeat(" ", max(w-lipgloss.Width(line), 0)))
		}
		if !fits {
			line = ansi.Truncate(line, w, "")
		}
		b.WriteString(line + "\n")
		lines++
		if m.expanded {
			for _, p := range d.r.group.Pods {
				if lines >= body {
					break
				}
				pl := fmt.Sprintf("    %s  %s  restarts %d  last %s  %s", sanitize.Line(p.Name), sanitize.Line(p.State), p.Restarts,
					report.Ago(p.LastFinish, now), sanitize.Line(p.Message))
				b.WriteString(st.Muted.Render(ansi.Truncate(pl, w, "…")) + "\n")
				lines++
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *listModel) renderRow(st theme.Styles, r *row, cells []string, widths []int) string {
	g := r.group
	var matched []int
	if m.filtered {
		if r.rank == m.rank {
			matched = r.hl
		}
		if matched == nil {
			matched = subsequenceIndexes(r.lower, []byte(strings.ToLower(m.input.Value())))
		}
	}
	kindCut := len(g.Owner) - len(report.ShortOwner(g.Owner)) // the search string has the full kind
	offsets := []int{0, len(g.Namespace) + 1 + kindCut, len(g.Namespace) + 1 + len(g.Owner) + 1}
	var out []string
	for i, c := range cells {
		if widths[i] == 0 {
			continue
		}
		text := pad(truncate(c, widths[i], "…"), widths[i])
		switch {
		case i <= report.ColContainer && len(matched) > 0:
			text = highlight(st, text, matched, offsets[i])
		case i == report.ColState && !r.resolved.IsZero():
			text = st.OK.Render(text)
		case i == report.ColState:
			text = st.State(c).Render(text)
		}
		out = append(out, text)
	}
	return strings.Join(out, " ")
}

// fitColumns fits columns of the given content widths into w, one space
// between them. Padding goes first: each column is as wide as its widest
// cell. When that is still too wide, report.Narrowing says what goes next.
// rowWidth is a row's width with these column widths: the shown columns
// and a space between each two.
func rowWidth(widths []int) int {
	n := 0
	for _, x := range widths {
		if x > 0 {
			n += x + 1
		}
	}
	return max(n-1, 0)
}

// fitCluster sizes the CLUSTER column of a fleet run (cellW 0: none) and
// the columns beside it. CLUSTER stands before report.Narrowing: it is
// taken first, at most a quarter of the width, because which cluster a
// row is in decides where to look and run kubectl, and that comes before
// LAST. A lost cluster's "stale 40s" note is not: it goes before LAST (the
// status bar says the cluster is away and its rows are muted), so notes
// says whether the cells keep it. The name is never cut for it.
func fitCluster(w, cellW, nameW int, content []int) (clusterW int, widths []int, notes bool) {
	fit := func(cw int) []int { return fitColumns(w-cw-min(cw, 1), content) }
	clusterW = min(cellW, w/4)
	widths = fit(clusterW)
	if narrower := min(nameW, w/4); widths[report.ColLast] == 0 && narrower < clusterW {
		return narrower, fit(narrower), false
	}
	return clusterW, widths, true
}

// clusterCell is a row's CLUSTER cell: the short name, and a lost
// cluster's note when there is room for it.
func clusterCell(name, stale string, notes bool) string {
	if stale == "" || !notes {
		return name
	}
	return name + " " + stale
}

func fitColumns(w int, content []int) []int {
	widths := slices.Clone(content)
	for _, step := range report.Narrowing {
		over := rowWidth(widths) - w
		if over <= 0 {
			break
		}
		if step.Shrink {
			widths[step.Col] = max(widths[step.Col]-over, min(widths[step.Col], report.Columns[step.Col].Min))
		} else {
			widths[step.Col] = 0
		}
	}
	return widths
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-textWidth(s), 0))
}
