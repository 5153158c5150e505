package ui

// The filter engine of the list screen: what `/` searches and how it ranks.
// It reads rows and writes only its own buffers, so a ranking can run as a
// tea.Cmd off the update loop while the list screen stays responsive.

import (
	"bytes"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/sahilm/fuzzy"

	"github.com/crashlens/crashlens/theme"
)

// matches is a ranking: the rows that match, their scores and, when
// sahilm/fuzzy ranked them, the matched characters (nil: computed when a
// row is drawn). Its slices come from a free list: 150,000 names would
// otherwise allocate megabytes a keystroke, and the GC work was the
// filter's p99.
type matches struct {
	rows   []*row
	scores []int
	hls    [][]int
	corp   *corpus // what was searched
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
	ms.rows, ms.scores, ms.hls, ms.corp = ms.rows[:0], ms.scores[:0], nil, nil
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
	ms.corp = c
	if cap(ms.rows) < c.n {
		ms.rows, ms.scores = make([]*row, 0, c.n), make([]int, 0, c.n)
	}
	for _, ch := range c.chunks {
		ms.matchChunk(ch, q)
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

// matchChunk adds the rows of a chunk that the prefilter lets through.
func (ms *matches) matchChunk(ch *chunk, q []byte) {
	start := 0
	for i, end := range ch.ends {
		if sc, ok := subsequenceScore(ch.text[start:end], q); ok {
			ms.rows = append(ms.rows, ch.rows[i])
			ms.scores = append(ms.scores, sc)
		}
		start = end
	}
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
		m.clearMatches()
		m.resort()
		return nil
	}
	c := m.visibleCorpus()
	if c.n <= asyncFilterAbove {
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
// a histogram of the (small, integer) scores; scores[i] is rows[i]'s and
// moves with it. It reads the scores, not the rows: following 150,000 row
// pointers was most of a keystroke. It reports false, moving nothing, when
// the scores are too spread for a histogram: then the caller sorts all the
// rows.
func topFirst(rows []*row, scores []int, k int) bool {
	lo, hi := scores[0], scores[0]
	for _, sc := range scores {
		lo, hi = min(lo, sc), max(hi, sc)
	}
	if hi-lo > 1<<16 {
		return false
	}
	counts := make([]int, hi-lo+1)
	for _, sc := range scores {
		counts[sc-lo]++
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
	for j, sc := range scores {
		if sc > threshold {
			rows[i], rows[j], scores[i], scores[j] = rows[j], rows[i], scores[j], scores[i]
			i++
		}
	}
	for j := i; j < len(rows) && i < k; j++ {
		if scores[j] == threshold {
			rows[i], rows[j], scores[i], scores[j] = rows[j], rows[i], scores[j], scores[i]
			i++
		}
	}
	return true
}

// setMatches applies a new ranking and puts the cursor on the best match.
// The list keeps the ranking (its rows and scores are the hits) instead of
// marking every row: a ranking of 150,000 rows then touches only the few
// rows it highlights and the 1,000 it sorts.
func (m *listModel) setMatches(ms *matches) {
	m.rank++
	for i, hl := range ms.hls { // at most cheapRankAbove rows
		ms.rows[i].hl, ms.rows[i].rank = hl, m.rank
	}
	m.clearMatches()
	m.ranking, m.filtered = ms, true
	m.resort()
	if len(m.order) > 0 {
		m.cursor, m.top = m.order[0], 0
	}
}

// clearMatches forgets the last ranking, returning its buffers.
func (m *listModel) clearMatches() {
	if m.ranking != nil {
		m.ranking.release()
	}
	m.ranking, m.filtered = nil, false
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
