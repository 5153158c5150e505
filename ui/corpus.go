package ui

// The filter's corpus and the row slice it is cut from. A batch that
// renames a group, adds one or drops one rebuilds one chunk of the corpus,
// not every row's string: at 150,000 rows a rebuild was 18.6 MB and most
// of a keystroke while pods were being created.

import "slices"

// chunkRows is how many places of listModel.all one chunk covers: small
// enough that rebuilding a chunk is cheap next to a keystroke's scan, large
// enough that a snapshot's slice of chunks stays short (150 at 150,000
// rows).
const chunkRows = 1024

// corpus is what the filter searches: the visible rows and their lowercased
// search strings, in chunks. Scanning a chunk is a sequential read;
// following 150,000 row pointers was most of a keystroke. A corpus and its
// chunks are never changed once built, so a matcher may read one off the
// update loop while the list builds the next: an update copies the chunks
// slice and replaces the chunks it touched, sharing the rest.
type corpus struct {
	chunks []*chunk
	n      int // rows in every chunk
}

// chunk holds the visible rows among listModel.all[i*chunkRows:(i+1)*chunkRows]
// for the chunk's index i, in that order, and their strings end to end.
type chunk struct {
	rows []*row
	text []byte
	ends []int // row i's string is text[ends[i-1]:ends[i]]
}

// visibleCorpus returns the corpus of the rows the filter searches,
// rebuilding the chunks whose rows changed since the last one.
func (m *listModel) visibleCorpus() *corpus {
	all := m.rowSlice() // forgets the corpus when it rebuilds
	if m.corp != nil && len(m.staleChunks) == 0 {
		return m.corp
	}
	chunks := make([]*chunk, (len(all)+chunkRows-1)/chunkRows)
	if m.corp != nil { // share the chunks no row of which changed
		copy(chunks, m.corp.chunks)
		for _, i := range m.staleChunks {
			if i < len(chunks) {
				chunks[i] = nil
			}
		}
	}
	c := &corpus{chunks: chunks}
	for i, ch := range chunks {
		if ch == nil {
			ch = m.buildChunk(i)
			chunks[i] = ch
		}
		c.n += len(ch.rows)
	}
	m.corp, m.staleChunks = c, m.staleChunks[:0]
	return c
}

// buildChunk builds chunk i from the rows in its places. It asks once
// whether a row is hidden: that is a look into the row, and at 150,000
// rows those looks were a third of a whole build.
func (m *listModel) buildChunk(i int) *chunk {
	places := m.all[i*chunkRows : min((i+1)*chunkRows, len(m.all))]
	rows, size := make([]*row, 0, len(places)), 0
	for _, r := range places {
		if !m.hidden(r) {
			rows, size = append(rows, r), size+len(r.lower)
		}
	}
	ch := &chunk{rows: rows, text: make([]byte, 0, size), ends: make([]int, 0, len(rows))}
	for _, r := range rows {
		ch.text = append(ch.text, r.lower...)
		ch.ends = append(ch.ends, len(ch.text))
	}
	return ch
}

// rowSlice is every row as a slice: the filter and the sort walk it
// instead of hashing group keys. It is rebuilt from the map (and the
// corpus with it) only when allDirty; batches and expiry keep it in step
// one row at a time (putRow, dropRow).
func (m *listModel) rowSlice() []*row {
	if m.allDirty || len(m.all) != len(m.rows) {
		m.forgetCorpus()
		m.all = m.all[:0]
		for _, r := range m.rows {
			r.at = len(m.all)
			m.all = append(m.all, r)
		}
		m.allDirty = false
	}
	return m.all
}

// forgetCorpus makes the next visibleCorpus build every chunk: for a
// change of every row's visibility (R, the cluster filter).
func (m *listModel) forgetCorpus() {
	m.corp, m.staleChunks = nil, m.staleChunks[:0]
}

// inStep reports whether m.all holds exactly the rows of the map, so a
// change of one row may be made in both.
func (m *listModel) inStep() bool { return !m.allDirty && len(m.all) == len(m.rows) }

// putRow adds a row or replaces the row of its group, in the map, in m.all
// (the replacement takes the old row's place) and in the chunk of that
// place.
func (m *listModel) putRow(r *row) {
	key := r.group.Key
	old, ok := m.rows[key]
	if !m.inStep() {
		m.rows[key], m.allDirty = r, true
		return
	}
	m.rows[key] = r
	if ok {
		r.at = old.at
		m.all[r.at] = r
	} else {
		r.at = len(m.all)
		m.all = append(m.all, r)
	}
	m.touch(r.at)
}

// dropRow removes a group's row; the last row of m.all takes its place, so
// two chunks change at most.
func (m *listModel) dropRow(key string) {
	r, ok := m.rows[key]
	if !ok {
		return
	}
	if !m.inStep() {
		delete(m.rows, key)
		m.allDirty = true
		return
	}
	delete(m.rows, key)
	last := len(m.all) - 1
	moved := m.all[last]
	m.all[r.at], moved.at = moved, r.at
	clear(m.all[last:])
	m.all = m.all[:last]
	m.touch(r.at)
	m.touch(last)
}

// touch marks the chunk of place i of m.all for rebuilding.
func (m *listModel) touch(i int) {
	if m.corp == nil {
		return // the next corpus is built whole anyway
	}
	c := i / chunkRows
	switch {
	case slices.Contains(m.staleChunks, c): // marked already
	case len(m.staleChunks) > len(m.corp.chunks)/2:
		m.forgetCorpus() // most chunks change: as cheap to build them all
	default:
		m.staleChunks = append(m.staleChunks, c)
	}
}
