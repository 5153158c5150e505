package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
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
	group    crash.Group
	search   string // namespace workload container reason exit pods
	lower    []byte // search, lowercased, for the fast prefilter
	score    int    // fuzzy score while a filter is set (resort sets it on the rows it sorts)
	hl       []int  // matched characters from sahilm/fuzzy; nil: computed when drawn
	rank     int    // the ranking hl is from: an older one's is stale
	resolved time.Time
	at       int // its place in listModel.all, which says its corpus chunk
}

// listModel is the list screen.
type listModel struct {
	view       *crash.View // the groups as the watcher's batches left them
	updated    time.Time   // when the last batch came
	rows       map[string]*row
	order      []string // keys in display order (after sort and filter)
	all        []*row   // every row, in step with rows (rebuilt from it when allDirty)
	corp       *corpus  // what the filter searches; nil: built whole next time
	scratch    []*row   // resort's working slice, reused
	allDirty   bool
	filtered   bool   // a filter is set: only the ranking's rows are shown
	cursor     string // key of the selected group: updates never move it
	top        int    // first visible row
	sortBy     int
	expanded   bool
	hideRecent bool
	// staleChunks are the chunks of corp whose rows changed since it was
	// built: the next corpus rebuilds them and shares the rest.
	staleChunks []int
	resolving   map[string]bool // keys of the rows marked resolved, for expire
	// ranking is the last ranking applied (nil when no filter is set): its
	// rows are the ones shown; rank is its number (setMatches).
	ranking       *matches
	rank          int
	scratchScores []int // resort's working scores, reused
	// short names the clusters of a fleet run (nil in a single-cluster
	// run: no CLUSTER column); cluster is the cluster filter ("" for all).
	short   map[string]string
	cluster string

	filtering bool
	input     textinput.Model
	filterSeq int // results of an older query are dropped
}

func newListModel() listModel {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "filter: namespace, workload, pod, container, reason, exit code"
	in.CharLimit = 200
	steadyCursor(&in)
	v := crash.NewView()
	v.State = crash.ConnState{Phase: crash.PhaseSyncing}
	return listModel{view: v, rows: map[string]*row{}, resolving: map[string]bool{}, input: in}
}

// steadyCursor stops a text input's cursor from blinking: a blink is a
// timer that wakes the program twice a second for as long as the filter is
// open, for nothing a user at 3 a.m. needs.
func steadyCursor(in *textinput.Model) {
	st := in.Styles()
	st.Cursor.Blink = false
	in.SetStyles(st)
}

// searchString is what the filter matches a row against; a fleet run
// adds the cluster at the end (highlighting counts from the start).
func (m *listModel) searchString(g crash.Group) string {
	var b strings.Builder
	b.WriteString(g.Namespace + " " + g.Owner + " " + g.Container + " " + g.State + " " + g.Reason + " " + strconv.Itoa(int(g.ExitCode)))
	for _, p := range g.Pods {
		b.WriteString(" " + p.Name)
	}
	if m.short != nil {
		b.WriteString(" " + g.Cluster)
	}
	return sanitize.Line(b.String())
}

// onBatch folds the watcher's batch into the view and the rows; the
// selected group keeps the cursor wherever it moves, a removed group
// lingers as resolved, and the order follows (re-ranked as a command when a
// filter is set and the list is large).
func (m *listModel) onBatch(b crash.Batch, now time.Time) tea.Cmd {
	ch := m.view.Apply(b)
	m.updated = now
	for _, g := range ch.Removed {
		if r, ok := m.rows[g.Key]; ok && r.resolved.IsZero() {
			r.resolved = now
			m.resolving[g.Key] = true
		}
	}
	for _, u := range ch.Upserted {
		search := m.searchString(u.Group)
		if r, ok := m.rows[u.Key]; ok && r.search == search && m.hidden(r) == m.hides(u.Group) {
			// The same words in the same place of the filter's corpus (a
			// restart count or a time moved): the row changes in place and
			// the corpus stays, not even its chunk rebuilt (a busy
			// cluster's every batch). A ranking running on the corpus
			// reads only the row's search string, which does not change.
			r.group, r.resolved = u.Group, time.Time{}
			continue
		}
		m.putRow(&row{group: u.Group, search: search, lower: []byte(strings.ToLower(search))})
	}
	if m.input.Value() != "" {
		return m.refilter()
	}
	m.resort()
	return nil
}

// onFilter applies a ranking the filter computed off the update loop,
// unless a newer keystroke made it stale.
func (m *listModel) onFilter(msg filterMsg) {
	if msg.seq != m.filterSeq {
		msg.matches.release() // stale: a newer keystroke is on its way
		return
	}
	m.setMatches(msg.matches)
}

// expire drops resolved rows whose moment has passed, and reports whether
// it dropped any. It looks at the rows marked resolved, not at all of them:
// at 150,000 rows a walk of the map every second held up the keys.
func (m *listModel) expire(now time.Time) bool {
	dropped := false
	for k := range m.resolving {
		r, ok := m.rows[k]
		switch {
		case !ok || r.resolved.IsZero(): // back in a batch since
			delete(m.resolving, k)
		case now.Sub(r.resolved) > resolvedFor:
			m.dropRow(k)
			delete(m.resolving, k)
			dropped = true
		}
	}
	return dropped
}

func (m *listModel) hidden(r *row) bool { return m.hides(r.group) }

// hides: the group's row is out of the list and the filter's corpus (R
// hides pods that restarted recently but run now; C one cluster's).
func (m *listModel) hides(g crash.Group) bool {
	return (m.hideRecent && g.State == diagnose.StateRestarted) || (m.cluster != "" && g.Cluster != m.cluster)
}

// setCluster shows only the cluster's rows ("" for every cluster).
func (m *listModel) setCluster(name string) tea.Cmd {
	m.cluster = name
	m.forgetCorpus()
	return m.refilter()
}

// resort orders the rows (keeping only matches while a filter is set).
func (m *listModel) resort() {
	rows, scores := m.shownRows()
	filtered := m.filtered
	by := sortNames[m.sortBy]
	sortRows := rows
	if filtered && len(rows) > sortedMatches && topFirst(rows, scores, sortedMatches) {
		sortRows = rows[:sortedMatches] // the tail keeps its order: nobody scrolls there
	}
	if filtered {
		for i, r := range sortRows {
			r.score = scores[i]
		}
	}
	slices.SortFunc(sortRows, func(a, b *row) int {
		if filtered && a.score != b.score {
			return cmp.Compare(b.score, a.score) // while filtering, the best match comes first
		}
		switch by {
		case "restarts":
			if a.group.Restarts != b.group.Restarts {
				return cmp.Compare(b.group.Restarts, a.group.Restarts)
			}
		case "age":
			if c := a.group.Pods[0].Created.Compare(b.group.Pods[0].Created); c != 0 {
				return c
			}
		case "namespace":
			if c := cmp.Compare(a.group.Namespace, b.group.Namespace); c != 0 {
				return c
			}
			if c := cmp.Compare(a.group.Owner, b.group.Owner); c != 0 {
				return c
			}
		}
		return report.Urgency(a.group, b.group)
	})
	if filtered { // the sort moved the rows: their scores follow
		for i, r := range sortRows {
			scores[i] = r.score
		}
	}
	m.order = m.order[:0]
	found := false
	for _, r := range rows {
		m.order = append(m.order, r.group.Key)
		found = found || r.group.Key == m.cursor
	}
	if !found {
		m.cursor = ""
		if len(m.order) > 0 {
			m.cursor = m.order[0]
		}
	}
}

// shownRows are the rows the list shows, in no order, and while a filter
// is set their scores: the last ranking's rows, less the rows gone or
// hidden since. While the corpus it searched is still the current one,
// every row of it is still shown: resort orders the ranking itself,
// without a look at a row or a copy.
func (m *listModel) shownRows() ([]*row, []int) {
	all := m.rowSlice()
	ms := m.ranking
	if m.filtered && ms != nil && m.corp != nil && ms.corp == m.corp && len(m.staleChunks) == 0 {
		return ms.rows, ms.scores
	}
	rows, scores := m.scratch[:0], m.scratchScores[:0]
	switch {
	case !m.filtered:
		for _, r := range all {
			if !m.hidden(r) {
				rows = append(rows, r)
			}
		}
	case ms != nil:
		for i, r := range ms.rows {
			if r.at < len(all) && all[r.at] == r && !m.hidden(r) {
				rows, scores = append(rows, r), append(scores, ms.scores[i])
			}
		}
	}
	m.scratch, m.scratchScores = rows, scores
	return rows, scores
}

func (m *listModel) index(key string) int {
	for i, k := range m.order {
		if k == key {
			return i
		}
	}
	return -1
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
		m.forgetCorpus()
		return m.refilter(), false
	case msg.String() == "esc" && m.input.Value() != "":
		m.input.SetValue("")
		return m.refilter(), false
	}
	return nil, false
}

// selected is the group under the cursor.
func (m *listModel) selected() (crash.Group, bool) {
	r, ok := m.rows[m.cursor]
	if !ok {
		return crash.Group{}, false
	}
	return r.group, true
}
