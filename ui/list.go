package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/theme"
	"github.com/crashlens/crashlens/ui/report"
	"github.com/crashlens/crashlens/ui/sanitize"
)

var itoa = strconv.Itoa

// Timing of the list, in one place.
const (
	// resolvedFor: a group that disappears stays, marked resolved, this long.
	resolvedFor = 5 * time.Second
	// asyncFilterAbove: with more rows than this, fuzzy matching runs as a
	// tea.Cmd and stale results are dropped.
	asyncFilterAbove = 2000
)

// Sort orders of the list.
var sortNames = []string{"urgency", "restarts", "age", "namespace"}

// row is one group on the list, with its prebuilt search string.
type row struct {
	group    kube.Group
	search   string // namespace workload container reason exit pods
	resolved time.Time
}

// listModel is the list screen.
type listModel struct {
	rows       map[string]*row
	order      []string         // keys in display order (after sort and filter)
	matched    map[string]match // nil when no filter is set
	cursor     string           // key of the selected group: updates never move it
	top        int              // first visible row
	sortBy     int
	expanded   bool
	hideRecent bool

	filtering bool
	input     textinput.Model
	filterSeq int // results of an older query are dropped
}

func newListModel() listModel {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "filter: namespace, workload, pod, container, reason, exit code"
	in.CharLimit = 200
	return listModel{rows: map[string]*row{}, matched: nil, input: in}
}

func searchString(g kube.Group) string {
	var b strings.Builder
	b.WriteString(g.Namespace + " " + g.Owner + " " + g.Container + " " + g.State + " " + g.Reason + " " + strconv.Itoa(int(g.ExitCode)))
	for _, p := range g.Pods {
		b.WriteString(" " + p.Name)
	}
	return sanitize.Line(b.String())
}

// apply merges a batch; the selected group keeps the cursor wherever it
// moves, and a removed group lingers as resolved.
func (m *listModel) apply(b kube.Batch, now time.Time) {
	for _, k := range b.Removed {
		if r, ok := m.rows[k]; ok && r.resolved.IsZero() {
			r.resolved = now
		}
	}
	for _, g := range b.Upserted {
		m.rows[g.Key] = &row{group: g, search: searchString(g)}
	}
}

// expire drops resolved rows whose moment has passed.
func (m *listModel) expire(now time.Time) {
	for k, r := range m.rows {
		if !r.resolved.IsZero() && now.Sub(r.resolved) > resolvedFor {
			delete(m.rows, k)
		}
	}
}

func (m *listModel) visibleKeys() []string {
	keys := make([]string, 0, len(m.rows))
	for k, r := range m.rows {
		if m.hideRecent && r.group.State == "Restarted" {
			continue
		}
		keys = append(keys, k)
	}
	return keys
}

// resort orders the rows (and applies a synchronous filter result).
func (m *listModel) resort() {
	keys := m.visibleKeys()
	if m.matched != nil {
		kept := keys[:0]
		for _, k := range keys {
			if _, ok := m.matched[k]; ok {
				kept = append(kept, k)
			}
		}
		keys = kept
	}
	less := func(a, b *row) bool {
		if m.matched != nil {
			// While filtering, the best match comes first.
			if sa, sb := m.matched[a.group.Key].score, m.matched[b.group.Key].score; sa != sb {
				return sa > sb
			}
		}
		switch sortNames[m.sortBy] {
		case "restarts":
			if a.group.Restarts != b.group.Restarts {
				return a.group.Restarts > b.group.Restarts
			}
		case "age":
			if !a.group.Pods[0].Created.Equal(b.group.Pods[0].Created) {
				return a.group.Pods[0].Created.Before(b.group.Pods[0].Created)
			}
		case "namespace":
			if a.group.Namespace != b.group.Namespace {
				return a.group.Namespace < b.group.Namespace
			}
			if a.group.Owner != b.group.Owner {
				return a.group.Owner < b.group.Owner
			}
		}
		if !a.group.LastRestart.Equal(b.group.LastRestart) {
			return a.group.LastRestart.After(b.group.LastRestart)
		}
		return a.group.Key < b.group.Key
	}
	sort.SliceStable(keys, func(i, j int) bool { return less(m.rows[keys[i]], m.rows[keys[j]]) })
	m.order = keys
	if _, ok := m.rows[m.cursor]; !ok || m.index(m.cursor) < 0 {
		m.cursor = ""
		if len(keys) > 0 {
			m.cursor = keys[0]
		}
	}
}

func (m *listModel) index(key string) int {
	for i, k := range m.order {
		if k == key {
			return i
		}
	}
	return -1
}

// match is a row's fuzzy result: the matched characters and the score
// that ranks it.
type match struct {
	indexes []int
	score   int
}

// filterMsg carries fuzzy results computed off the update loop.
type filterMsg struct {
	seq     int
	matched map[string]match
}

type searchSource struct {
	keys []string
	rows map[string]*row
}

func (s searchSource) String(i int) string { return s.rows[s.keys[i]].search }
func (s searchSource) Len() int            { return len(s.keys) }

func matchRows(query string, keys []string, rows map[string]*row) map[string]match {
	out := map[string]match{}
	for _, m := range fuzzy.FindFrom(query, searchSource{keys, rows}) {
		out[keys[m.Index]] = match{indexes: m.MatchedIndexes, score: m.Score}
	}
	return out
}

// refilter re-ranks for the current query: in place for small sets, as a
// tea.Cmd for large ones.
func (m *listModel) refilter() tea.Cmd {
	q := m.input.Value()
	m.filterSeq++
	if q == "" {
		m.matched = nil
		m.resort()
		return nil
	}
	keys := m.visibleKeys()
	if len(keys) <= asyncFilterAbove {
		m.setMatches(matchRows(q, keys, m.rows))
		return nil
	}
	seq := m.filterSeq
	snapshot := make(map[string]*row, len(keys))
	for _, k := range keys {
		snapshot[k] = &row{search: m.rows[k].search}
	}
	return func() tea.Msg { return filterMsg{seq: seq, matched: matchRows(q, keys, snapshot)} }
}

// setMatches applies a new ranking and puts the cursor on the best match.
func (m *listModel) setMatches(matched map[string]match) {
	m.matched = matched
	m.resort()
	if len(m.order) > 0 {
		m.cursor, m.top = m.order[0], 0
	}
}

func (m *listModel) move(delta, height int) {
	if len(m.order) == 0 {
		return
	}
	i := m.index(m.cursor)
	i = min(max(i+delta, 0), len(m.order)-1)
	m.cursor = m.order[i]
	m.scrollTo(i, height)
}

func (m *listModel) scrollTo(i, height int) {
	if i < m.top {
		m.top = i
	}
	if i >= m.top+height {
		m.top = i - height + 1
	}
}

// update handles the list's keys; it returns a command and whether the key
// asked to open the selected group.
func (m *listModel) update(msg tea.KeyPressMsg, height int) (tea.Cmd, bool) {
	if m.filtering {
		switch msg.String() {
		case "esc":
			m.filtering = false
			m.input.SetValue("")
			m.input.Blur()
			return m.refilter(), false
		case "enter":
			m.filtering = false
			m.input.Blur()
			return nil, len(m.order) > 0
		case "down", "up":
			m.move(map[string]int{"down": 1, "up": -1}[msg.String()], height)
			return nil, false
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return tea.Batch(cmd, m.refilter()), false
	}
	switch {
	case key.Matches(msg, Keys.Filter):
		m.filtering = true
		return m.input.Focus(), false
	case key.Matches(msg, Keys.Open):
		return nil, m.cursor != ""
	case key.Matches(msg, Keys.Down):
		m.move(1, height)
	case key.Matches(msg, Keys.Up):
		m.move(-1, height)
	case key.Matches(msg, Keys.PageDown):
		m.move(height, height)
	case key.Matches(msg, Keys.PageUp):
		m.move(-height, height)
	case key.Matches(msg, Keys.Top):
		m.move(-len(m.order), height)
	case key.Matches(msg, Keys.Bottom):
		m.move(len(m.order), height)
	case key.Matches(msg, Keys.Sort):
		m.sortBy = (m.sortBy + 1) % len(sortNames)
		m.resort()
	case key.Matches(msg, Keys.Expand):
		m.expanded = !m.expanded
	case key.Matches(msg, Keys.Recent):
		m.hideRecent = !m.hideRecent
		return m.refilter(), false
	case msg.String() == "esc" && m.input.Value() != "":
		m.input.SetValue("")
		return m.refilter(), false
	}
	return nil, false
}

// selected is the group under the cursor.
func (m *listModel) selected() (kube.Group, bool) {
	r, ok := m.rows[m.cursor]
	if !ok {
		return kube.Group{}, false
	}
	return r.group, true
}

var listColumns = []struct {
	title string
	width int // minimum; WORKLOAD takes what is left
}{{"NAMESPACE", 10}, {"WORKLOAD", 20}, {"CONTAINER", 11}, {"STATE", 21}, {"EXIT", 19}, {"RESTARTS", 8}, {"LAST", 6}, {"NEXT", 7}, {"PODS", 4}}

// view renders the rows that fit in w x h.
func (m *listModel) view(st theme.Styles, w, h int, now time.Time) string {
	if h < 1 || w < 10 {
		return ""
	}
	widths := columnWidths(w)
	var b strings.Builder
	var head []string
	for i, c := range listColumns {
		if widths[i] > 0 {
			head = append(head, pad(c.title, widths[i]))
		}
	}
	b.WriteString(st.Header.Render(ansi.Truncate(strings.Join(head, " "), w, "")) + "\n")
	body := h - 1
	lines := 0
	m.top = min(m.top, max(len(m.order)-1, 0))
	if i := m.index(m.cursor); i >= 0 {
		m.scrollTo(i, body)
	}
	for i := m.top; i < len(m.order) && lines < body; i++ {
		k := m.order[i]
		r := m.rows[k]
		line := m.renderRow(st, r, widths, now, k)
		if k == m.cursor {
			line = st.Selected.Render(ansi.Strip(line) + strings.Repeat(" ", max(w-lipgloss.Width(line), 0)))
		}
		b.WriteString(ansi.Truncate(line, w, "") + "\n")
		lines++
		if m.expanded {
			for _, p := range r.group.Pods {
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

func (m *listModel) renderRow(st theme.Styles, r *row, widths []int, now time.Time, k string) string {
	g := r.group
	state := sanitize.Line(g.State)
	if !r.resolved.IsZero() {
		state = "resolved"
	}
	cells := []string{sanitize.Line(g.Namespace), sanitize.Line(shortOwner(g.Owner)), sanitize.Line(g.Container), state,
		report.ExitText(g.ExitCode, g.Meaning), itoa(int(g.Restarts)), report.Ago(g.LastRestart, now), report.In(g.NextRestart, now), itoa(len(g.Pods))}
	matched := m.matched[k].indexes
	kindCut := len(g.Owner) - len(shortOwner(g.Owner)) // the search string has the full kind
	offsets := []int{0, len(g.Namespace) + 1 + kindCut, len(g.Namespace) + 1 + len(g.Owner) + 1}
	var out []string
	for i, c := range cells {
		if widths[i] == 0 {
			continue
		}
		text := pad(ansi.Truncate(c, widths[i], "…"), widths[i])
		switch {
		case i < 3 && len(matched) > 0:
			text = highlight(st, text, matched, offsets[i])
		case i == 3 && !r.resolved.IsZero():
			text = st.OK.Render(text)
		case i == 3:
			text = st.State(c).Render(text)
		}
		out = append(out, text)
	}
	return strings.Join(out, " ")
}

// shortKinds are kubectl's short names, to keep the workload column for
// the name.
var shortKinds = map[string]string{"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs",
	"CronJob": "cronjob", "Job": "job", "Pod": "pod", "ReplicationController": "rc"}

func shortOwner(owner string) string {
	kind, name, ok := strings.Cut(owner, "/")
	if s, known := shortKinds[kind]; ok && known {
		return s + "/" + name
	}
	return owner
}

// highlight underlines the characters of cell that the fuzzy match hit;
// base is the cell's offset in the search string.
func highlight(st theme.Styles, cell string, matched []int, base int) string {
	hit := map[int]bool{}
	for _, i := range matched {
		hit[i-base] = true
	}
	var b strings.Builder
	for i, r := range []rune(cell) {
		if hit[i] {
			b.WriteString(st.Match.Render(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// columnWidths fits the columns into w: narrow terminals drop the least
// important columns first.
func columnWidths(w int) []int {
	widths := make([]int, len(listColumns))
	drop := []int{8, 7, 5, 2, 6, 0} // PODS, NEXT, RESTARTS, CONTAINER, LAST, NAMESPACE
	for i, c := range listColumns {
		widths[i] = c.width
	}
	total := func() int {
		n := 0
		for _, x := range widths {
			if x > 0 {
				n += x + 1
			}
		}
		return n
	}
	for _, d := range drop {
		if total() <= w {
			break
		}
		widths[d] = 0
	}
	extra := max(w-total(), 0)
	widths[1] += extra * 2 / 3
	widths[0] += extra - extra*2/3
	return widths
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-lipgloss.Width(s), 0))
}
