package ui

// A fleet run (several contexts, Options.Clusters): each cluster's state in
// the status bar and in the clusters panel, the cluster filter the panel
// picks, and the staleness of a disconnected cluster's rows.

import (
	"fmt"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
)

// fleet: the run watches several clusters.
func (o Options) fleet() bool { return len(o.Clusters) > 1 }

// clusterPanel is the open clusters panel: line 0 is "every cluster",
// line i the i-th of Options.Clusters.
type clusterPanel struct{ sel int }

// clusterState is what the view knows of a cluster; before its first batch
// it is connecting.
func (m *Model) clusterState(name string) crash.ClusterState {
	if c, ok := m.list.view.Clusters[name]; ok {
		return c
	}
	return crash.ClusterState{State: crash.ConnState{Phase: crash.PhaseConnecting}}
}

// staleness says, for a row of a cluster whose connection is lost, since
// when its rows are not current ("" while they are).
func staleness(c crash.ClusterState, now time.Time) string {
	if c.Live() || c.State.Since.IsZero() {
		return ""
	}
	return "stale " + report.Ago(c.State.Since, now)
}

// compactState is a cluster's state in a few characters, for the status
// bar: "✓ 12" (synced, 12 crashing pods), or the phase.
func compactState(c crash.ClusterState) string {
	if c.State.Phase == crash.PhaseSynced {
		return fmt.Sprintf("✓ %d", c.Crashing)
	}
	return c.State.Phase
}

// fleetStatus is the status bar's cluster part in a fleet run:
// "prod-eu ✓ 12 · prod-us reconnecting · staging forbidden".
func (m *Model) fleetStatus() string {
	parts := make([]string, 0, len(m.opts.Clusters))
	for _, name := range m.opts.Clusters {
		parts = append(parts, sanitize.Line(m.list.short[name])+" "+compactState(m.clusterState(name)))
	}
	return strings.Join(parts, " · ")
}

// clusterLine is one cluster's full state, for the panel.
func (m *Model) clusterLine(name string, now time.Time) string {
	c := m.clusterState(name)
	s := fmt.Sprintf("%s  %s", sanitize.Line(name), sanitize.Line(c.State.String()))
	if !c.State.Since.IsZero() {
		s += " since " + report.Ago(c.State.Since, now) + " ago"
	}
	if c.State.Phase != crash.PhaseConnecting {
		s += fmt.Sprintf(" · %d crashing / %s watched", c.Crashing, thousands(c.Watched))
	}
	if !c.At.IsZero() {
		s += " · updated " + report.Ago(c.At, now) + " ago"
	}
	if c.Note != "" {
		s += " · " + sanitize.Line(c.Note)
	}
	return s
}

// panelView renders the clusters panel.
func (m *Model) panelView(now time.Time) string {
	var b strings.Builder
	b.WriteString(m.st.Title.Render("clusters") + "  (enter shows only the selected one · esc closes)\n\n")
	lines := []string{fmt.Sprintf("every cluster  %d crashing / %s watched", m.list.view.Crashing, thousands(m.list.view.Watched))}
	for _, name := range m.opts.Clusters {
		lines = append(lines, m.clusterLine(name, now))
	}
	for i, l := range lines {
		current := (i == 0 && m.list.cluster == "") || (i > 0 && m.opts.Clusters[i-1] == m.list.cluster)
		mark := "  "
		if current {
			mark = "• "
		}
		l = ansi.Truncate(mark+l, m.w, "…")
		if i == m.panel.sel {
			l = m.st.Selected.Render(l + strings.Repeat(" ", max(m.w-ansi.StringWidth(l), 0)))
		} else if i > 0 && !m.clusterState(m.opts.Clusters[i-1]).Live() {
			l = m.st.Error.Render(l)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// openPanel opens the clusters panel on the current filter's line.
func (m *Model) openPanel() {
	m.panel = &clusterPanel{}
	for i, name := range m.opts.Clusters {
		if name == m.list.cluster {
			m.panel.sel = i + 1
		}
	}
}

// panelKey handles a key while the clusters panel is open: enter picks
// the cluster filter.
func (m *Model) panelKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, Keys.Down):
		m.panel.sel = min(m.panel.sel+1, len(m.opts.Clusters))
	case key.Matches(msg, Keys.Up):
		m.panel.sel = max(m.panel.sel-1, 0)
	case key.Matches(msg, Keys.Top):
		m.panel.sel = 0
	case key.Matches(msg, Keys.Bottom):
		m.panel.sel = len(m.opts.Clusters)
	case key.Matches(msg, Keys.Open):
		name := ""
		if m.panel.sel > 0 {
			name = m.opts.Clusters[m.panel.sel-1]
		}
		m.panel = nil
		return m.list.setCluster(name)
	case key.Matches(msg, Keys.Back), key.Matches(msg, Keys.Clusters):
		m.panel = nil
	}
	return nil
}
