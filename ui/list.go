package ui

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
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
	lower    []byte // search, lowercased, for the fast prefilter
	score    int    // fuzzy score while a filter is set
	hit      bool   // matches the current filter
	hl       []int  // matched characters from sahilm/fuzzy; nil: computed when drawn
	resolved time.Time
}

// listModel is the list screen.
type listModel struct {
	rows       map[string]*row
	order      []string // keys in display order (after sort and filter)
	all        []*row   // every row, rebuilt from rows when allDirty
	corp       *corpus  // what the filter searches; nil when the rows changed
	scratch    []*row   // resort's working slice, reused
	allDirty   bool
	filtered   bool   // a filter is set: only rows with hit are shown
	cursor     string // key of the selected group: updates never move it
	top        int    // first visible row
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
	steadyCursor(&in)
	return listModel{rows: map[string]*row{}, input: in}
}

// steadyCursor stops a text input's cursor from blinking: a blink is a
// timer that wakes the program twice a second for as long as the filter is
// open, for nothing a user at 3 a.m. needs.
func steadyCursor(in *textinput.Model) {
	st := in.Styles()
	st.Cursor.Blink = false
	in.SetStyles(st)
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
		search := searchString(g)
		m.rows[g.Key] = &row{group: g, search: search, lower: []byte(strings.ToLower(search))}
	}
	if len(b.Upserted) > 0 {
		m.allDirty = true
	}
}

// rowSlice is every row as a slice: the filter and the sort walk it
// instead of hashing group keys.
func (m *listModel) rowSlice() []*row {
	if m.allDirty || len(m.all) != len(m.rows) {
		m.corp = nil
		m.all = m.all[:0]
		for _, r := range m.rows {
			m.all = append(m.all, r)
		}
		m.allDirty = false
	}
	return m.all
}

// expire drops resolved rows whose moment has passed, and reports whether
// it dropped any.
func (m *listModel) expire(now time.Time) bool {
	dropped := false
	for k, r := range m.rows {
		if !r.resolved.IsZero() && now.Sub(r.resolved) > resolvedFor {
			delete(m.rows, k)
			m.allDirty, dropped = true, true
		}
	}
	return dropped
}

// corpus is what the filter searches: the visible rows and their
// lowercased search strings end to end in one buffer. Scanning it is a
// sequential read; following 150,000 row pointers was most of a keystroke.
// It is immutable once built, so a matcher may read it off the update loop,
// and it is rebuilt only when the rows change, not on every keystroke.
type corpus struct {
	rows []*row
	text []byte
	ends []int // row i's string is text[ends[i-1]:ends[i]]
}

// visibleCorpus returns the corpus of the rows the filter searches,
// building it when the rows changed since the last one.
func (m *listModel) visibleCorpus() *corpus {
	all := m.rowSlice() // forgets the corpus when it rebuilds
	if m.corp != nil {
		return m.corp
	}
	c := &corpus{rows: make([]*row, 0, len(all)), ends: make([]int, 0, len(all))}
	size := 0
	for _, r := range all {
		size += len(r.lower)
	}
	c.text = make([]byte, 0, size)
	for _, r := range all {
		if m.hidden(r) {
			continue
		}
		c.rows = append(c.rows, r)
		c.text = append(c.text, r.lower...)
		c.ends = append(c.ends, len(c.text))
	}
	m.corp = c
	return c
}

// hidden: R hides pods that restarted recently but run now.
func (m *listModel) hidden(r *row) bool { return m.hideRecent && r.group.State == "Restarted" }

// resort orders the rows (keeping only matches while a filter is set).
func (m *listModel) resort() {
	all := m.rowSlice()
	rows := m.scratch[:0]
	for _, r := range all {
		if m.hidden(r) || (m.filtered && !r.hit) {
			continue
		}
		rows = append(rows, r)
	}
	m.scratch = rows
	filtered := m.filtered
	by := sortNames[m.sortBy]
	sortRows := rows
	if filtered && len(rows) > sortedMatches && topFirst(rows, sortedMatches) {
		sortRows = rows[:sortedMatches] // the tail keeps its order: nobody scrolls there
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

func (m *listModel) index(key string) int {
	for i, k := range m.order {
		if k == key {
			return i
		}
	}
	return -1
}

// matches is a ranking: the rows that match, their scores and, when
// sahilm/fuzzy ranked them, the matched characters (nil: computed when a
// row is drawn). Its slices come from a free list: 150,000 names would
// otherwise allocate megabytes a keystroke, and the GC work was the
// filter's p99.
type matches struct {
	rows   []*row
	scores []int
	hls    [][]int
}

// freeList keeps a few buffers between keystrokes. Unlike sync.Pool it is
// not emptied by each garbage collection, which at 150,000 rows comes
// every keystroke or two and made every buffer grow again from nothing.
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		t := f.free[n-1]
		f.free = f.free[:n-1]
		return t
	}
	return new(T)
}

func (f *freeList[T]) put(t *T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.free) < 4 { // one in use, one in flight, and slack
		f.free = append(f.free, t)
	}
}

var matchesFree freeList[matches]

// release returns the buffers once the ranking is applied (or dropped as
// stale).
func (ms *matches) release() {
	clear(ms.rows) // no pointers into old rows kept alive
	ms.rows, ms.scores, ms.hls = ms.rows[:0], ms.scores[:0], nil
	matchesFree.put(ms)
}

// filterMsg carries fuzzy results computed off the update loop.
type filterMsg struct {
	seq     int
	matches *matches
}

type searchSource []*row

func (s searchSource) String(i int) string { return s[i].search }
func (s searchSource) Len() int            { return len(s) }

// cheapRankAbove: with more candidates than this after the prefilter, rows
// are ranked by the prefilter's own score instead of sahilm/fuzzy's (which
// costs about 10 µs a row).
const cheapRankAbove = 1000

// matchRows ranks rows for a query: a byte-level subsequence prefilter
// drops what cannot match, sahilm/fuzzy scores and highlights the rest. It
// reads the rows and writes nothing, so it can run off the update loop.
func matchRows(query string, c *corpus) *matches {
	q := []byte(strings.ToLower(query))
	ms := matchesFree.get()
	if cap(ms.rows) < len(c.rows) {
		ms.rows, ms.scores = make([]*row, 0, len(c.rows)), make([]int, 0, len(c.rows))
	}
	start := 0
	for i, end := range c.ends {
		if sc, ok := subsequenceScore(c.text[start:end], q); ok {
			ms.rows = append(ms.rows, c.rows[i])
			ms.scores = append(ms.scores, sc)
		}
		start = end
	}
	if len(ms.rows) > cheapRankAbove {
		return ms
	}
	// sahilm/fuzzy reports matches in input order, so fm.Index >= i and
	// the candidates compact in place.
	found := fuzzy.FindFromNoSort(query, searchSource(ms.rows))
	ms.hls = make([][]int, len(found))
	for i, fm := range found {
		ms.rows[i], ms.scores[i], ms.hls[i] = ms.rows[fm.Index], fm.Score, fm.MatchedIndexes
	}
	clear(ms.rows[len(found):])
	ms.rows, ms.scores = ms.rows[:len(found)], ms.scores[:len(found)]
	return ms
}

// subsequenceScore reports whether q occurs in s in order, with a score
// that favours adjacent matches, word starts and an early start. It
// allocates nothing: it runs on every row for every keystroke.
func subsequenceScore(s, q []byte) (int, bool) {
	if len(q) == 0 {
		return 0, true
	}
	score, prev, first := 0, -2, -1
	for i, j := 0, 0; j < len(q); i, j = i+1, j+1 {
		// The next occurrence of the query's next byte (IndexByte is
		// vectorised: most of a row is skipped, not compared byte by byte).
		if i >= len(s) {
			return 0, false
		}
		if s[i] != q[j] { // adjacent matches need no search
			k := bytes.IndexByte(s[i:], q[j])
			if k < 0 {
				return 0, false
			}
			i += k
		}
		if first < 0 {
			first = i
		}
		if i == prev+1 {
			score += 5
		}
		if i == 0 || s[i-1] == ' ' || s[i-1] == '/' || s[i-1] == '-' {
			score += 3
		}
		prev = i
	}
	return score - first/8, true
}

// subsequenceIndexes are the positions subsequenceScore matched, for
// highlighting the rows on screen.
func subsequenceIndexes(s, q []byte) []int {
	var idx []int
	for i, j := 0, 0; i < len(s) && j < len(q); i++ {
		if s[i] == q[j] {
			idx = append(idx, i)
			j++
		}
	}
	return idx
}

// refilter re-ranks for the current query: in place for small sets, as a
// tea.Cmd for large ones.
func (m *listModel) refilter() tea.Cmd {
	q := m.input.Value()
	m.filterSeq++
	if q == "" {
		m.filtered = false
		m.resort()
		return nil
	}
	c := m.visibleCorpus()
	if len(c.rows) <= asyncFilterAbove {
		m.setMatches(matchRows(q, c))
		return nil
	}
	seq := m.filterSeq
	return func() tea.Msg { return filterMsg{seq: seq, matches: matchRows(q, c)} }
}

// sortedMatches: while filtering, only this many best matches are fully
// sorted; with 150,000 matching names a full sort is most of a keystroke.
const sortedMatches = 1000

// topFirst moves the k best-scoring rows to the front in linear time, using
// a histogram of the (small, integer) scores. It reports false, moving
// nothing, when the scores are too spread for a histogram: then the caller
// sorts all the rows.
func topFirst(rows []*row, k int) bool {
	lo, hi := rows[0].score, rows[0].score
	for _, r := range rows {
		lo, hi = min(lo, r.score), max(hi, r.score)
	}
	if hi-lo > 1<<16 {
		return false
	}
	counts := make([]int, hi-lo+1)
	for _, r := range rows {
		counts[r.score-lo]++
	}
	threshold, seen := hi, 0
	for threshold >= lo && seen+counts[threshold-lo] < k {
		seen += counts[threshold-lo]
		threshold--
	}
	// Partition in place: every row above the threshold first (fewer than
	// k), then rows at the threshold until there are k. Taking all rows at
	// the threshold could put more than k in front and leave a better one
	// behind the k that get sorted.
	i := 0
	for j, r := range rows {
		if r.score > threshold {
			rows[i], rows[j] = rows[j], rows[i]
			i++
		}
	}
	for j := i; j < len(rows) && i < k; j++ {
		if rows[j].score == threshold {
			rows[i], rows[j] = rows[j], rows[i]
			i++
		}
	}
	return true
}

// setMatches applies a new ranking and puts the cursor on the best match.
func (m *listModel) setMatches(ms *matches) {
	for _, r := range m.rowSlice() {
		r.hit = false
	}
	for i, r := range ms.rows {
		r.hit, r.score, r.hl = true, ms.scores[i], nil
		if ms.hls != nil {
			r.hl = ms.hls[i]
		}
	}
	ms.release()
	m.filtered = true
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
		m.corp = nil
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

// view renders the rows that fit in w x h.
func (m *listModel) view(st theme.Styles, w, h int, now time.Time) string {
	if h < 1 || w < 10 {
		return ""
	}
	widths := columnWidths(w)
	var b strings.Builder
	var head []string
	for i, c := range report.Columns {
		if widths[i] > 0 {
			head = append(head, pad(c.Title, widths[i]))
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
	cells := report.Cells(g, now)
	if !r.resolved.IsZero() {
		cells[report.ColState] = "resolved"
	}
	var matched []int
	if m.filtered {
		matched = r.hl
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
		text := pad(ansi.Truncate(c, widths[i], "…"), widths[i])
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
	widths := make([]int, len(report.Columns))
	var drop []int // column indexes, first to go first
	for i, c := range report.Columns {
		widths[i] = c.Width
		if c.Drop > 0 {
			drop = append(drop, i)
		}
	}
	slices.SortFunc(drop, func(a, b int) int { return cmp.Compare(report.Columns[a].Drop, report.Columns[b].Drop) })
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
	widths[report.ColWorkload] += extra * 2 / 3
	widths[report.ColNamespace] += extra - extra*2/3
	return widths
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-lipgloss.Width(s), 0))
}
