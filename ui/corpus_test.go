package ui

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/diagnose"
)

// flat is the corpus's rows and text end to end, as one buffer held them
// before the corpus came in chunks.
func (c *corpus) flat() ([]*row, []byte) {
	var rows []*row
	var text []byte
	for _, ch := range c.chunks {
		rows = append(rows, ch.rows...)
		text = append(text, ch.text...)
	}
	return rows, text
}

// corpusGroup is group i of a fleet of two clusters, with one pod.
func corpusGroup(i int, pod, state string) crash.Group {
	cluster := []string{"east", "west"}[i%2]
	ns := fmt.Sprintf("team-%02d", i%40)
	owner := fmt.Sprintf("Deployment/svc-%05d", i)
	p := diagnose.CrashPod{Namespace: ns, Name: pod, Owner: owner, Container: "app", Reason: "Error", State: state,
		ExitCode: int32(i % 3), Restarts: int32(i % 11), LastFinish: testNow.Add(-time.Duration(i%500) * time.Second),
		Created: testNow.Add(-time.Duration(i%700) * time.Minute)}
	return crash.Group{Key: crash.FleetKey(cluster, p.GroupKey()), Cluster: cluster, Namespace: ns, Owner: owner, Container: "app",
		Reason: p.Reason, State: state, ExitCode: p.ExitCode, Pods: []diagnose.CrashPod{p}, Restarts: p.Restarts, LastRestart: p.LastFinish}
}

// listHistory drives a list the way the app does (batches, the clock, R, the
// cluster filter, the sort key, the query) with random steps from a fixed
// seed, and remembers every group it has sent.
type listHistory struct {
	t      *testing.T
	m      *listModel
	rnd    *rand.Rand
	now    time.Time
	groups map[string]crash.Group // the last version of each group sent
	next   int                    // the next new group's number
}

func newListHistory(t *testing.T, seed uint64, rows int) *listHistory {
	m := newListModel()
	m.short = map[string]string{"east": "east", "west": "west"}
	h := &listHistory{t: t, m: &m, rnd: rand.New(rand.NewPCG(seed, 0)), now: testNow, groups: map[string]crash.Group{}}
	h.add(rows)
	return h
}

// run applies what a step returned, as the program would: a ranking off
// the update loop comes back as a message.
func (h *listHistory) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if msg, ok := cmd().(filterMsg); ok {
		h.m.onFilter(msg)
	}
}

func (h *listHistory) batch(b crash.Batch) {
	b.State = crash.ConnState{Phase: crash.PhaseSynced}
	for _, g := range b.Upserted {
		h.groups[g.Key] = g
	}
	h.run(h.m.onBatch(b, h.now))
}

func (h *listHistory) add(n int) {
	var b crash.Batch
	for range n {
		b.Upserted = append(b.Upserted, corpusGroup(h.next, fmt.Sprintf("pod-%05d-a", h.next), "CrashLoopBackOff"))
		h.next++
	}
	h.batch(b)
}

// some is a group the list has, at random.
func (h *listHistory) some() crash.Group {
	keys := slices.Sorted(maps.Keys(h.m.rows))
	return h.groups[keys[h.rnd.IntN(len(keys))]]
}

// historySteps are what a listHistory does, by name.
var historySteps = map[string]func(h *listHistory){
	"add": func(h *listHistory) { h.add(1 + h.rnd.IntN(40)) },
	"rename": func(h *listHistory) {
		var b crash.Batch
		for range 1 + h.rnd.IntN(5) {
			g := h.some()
			g.Pods = []diagnose.CrashPod{g.Pods[0]}
			g.Pods[0].Name = fmt.Sprintf("pod-%05d-r%d", h.rnd.IntN(100000), h.rnd.IntN(10))
			b.Upserted = append(b.Upserted, g)
		}
		h.batch(b)
	},
	"numbers": func(h *listHistory) {
		g := h.some()
		g.Restarts++
		g.LastRestart = g.LastRestart.Add(time.Minute)
		h.batch(crash.Batch{Upserted: []crash.Group{g}})
	},
	"restarted": func(h *listHistory) { // in and out of what R hides
		g := h.some()
		if g.State == diagnose.StateRestarted {
			g.State = "CrashLoopBackOff"
		} else {
			g.State = diagnose.StateRestarted
		}
		h.batch(crash.Batch{Upserted: []crash.Group{g}})
	},
	"remove": func(h *listHistory) {
		var b crash.Batch
		for range 1 + h.rnd.IntN(8) {
			b.Removed = append(b.Removed, h.some().Key)
		}
		h.batch(b)
	},
	"clock": func(h *listHistory) {
		h.now = h.now.Add(3 * time.Second)
		if h.m.expire(h.now) {
			h.m.resort()
		}
	},
	"R": func(h *listHistory) {
		cmd, _ := h.m.update(keyMsg("R"), 20)
		h.run(cmd)
	},
	"sort": func(h *listHistory) {
		cmd, _ := h.m.update(keyMsg("o"), 20)
		h.run(cmd)
	},
	"cluster": func(h *listHistory) { h.run(h.m.setCluster([]string{"", "east", "west"}[h.rnd.IntN(3)])) },
	"query": func(h *listHistory) {
		h.m.input.SetValue([]string{"", "svc-001", "pod-0012", "restarted", "team-07 svc", "west", "s", "zzz"}[h.rnd.IntN(8)])
		h.run(h.m.refilter())
	},
}

// fresh is a list given, in one batch, every group the history's list
// holds, with its settings: what the history's list should show.
func (h *listHistory) fresh() *listModel {
	f := newListModel()
	f.short, f.hideRecent, f.cluster, f.sortBy = h.m.short, h.m.hideRecent, h.m.cluster, h.m.sortBy
	var b crash.Batch
	for k := range h.m.rows {
		b.Upserted = append(b.Upserted, h.groups[k])
	}
	f.input.SetValue(h.m.input.Value())
	cmd := f.onBatch(b, h.now)
	if cmd != nil {
		if msg, ok := cmd().(filterMsg); ok {
			f.onFilter(msg)
		}
	}
	return &f
}

// checkOrder: the list shows what a list built in one batch shows, in the
// same order when every match is sorted and scored as a new ranking would.
// Not otherwise: a filter's tail past sortedMatches keeps the corpus's
// order, and rows the clock dropped since the last ranking may have taken
// it above cheapRankAbove, where scores are the prefilter's.
func checkOrder(t *testing.T, h *listHistory, step string) {
	t.Helper()
	f := h.fresh()
	got, want := h.m.order, f.order
	if h.m.filtered && (len(want) > sortedMatches || len(h.m.ranking.rows) != len(got)) {
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after %s (query %q, R %v, cluster %q): %d rows shown, want %d, or in another order",
			step, h.m.input.Value(), h.m.hideRecent, h.m.cluster, len(got), len(want))
	}
}

// checkCorpus: each chunk of the incremental corpus is what building it
// anew gives, its rows are every visible row once, and it ranks as a
// corpus of one chunk built from the map does.
func checkCorpus(t *testing.T, m *listModel, step string) {
	t.Helper()
	c := m.visibleCorpus()
	if want := (len(m.all) + chunkRows - 1) / chunkRows; len(c.chunks) != want {
		t.Fatalf("after %s: %d chunks for %d rows, want %d", step, len(c.chunks), len(m.all), want)
	}
	n := 0
	for i, ch := range c.chunks {
		fresh := m.buildChunk(i)
		if !slices.Equal(ch.rows, fresh.rows) || !bytes.Equal(ch.text, fresh.text) || !slices.Equal(ch.ends, fresh.ends) {
			t.Fatalf("after %s: chunk %d differs from a fresh build", step, i)
		}
		n += len(ch.rows)
	}
	scratch := &chunk{}
	for _, r := range m.rows {
		if !m.hidden(r) {
			scratch.rows = append(scratch.rows, r)
			scratch.text = append(scratch.text, r.lower...)
			scratch.ends = append(scratch.ends, len(scratch.text))
		}
	}
	if c.n != n || n != len(scratch.rows) {
		t.Fatalf("after %s: the corpus counts %d rows, its chunks hold %d, %d are visible", step, c.n, n, len(scratch.rows))
	}
	for _, q := range []string{m.input.Value(), "svc-00", "pod-001"} {
		got, want := ranking(q, c), ranking(q, &corpus{chunks: []*chunk{scratch}, n: len(scratch.rows)})
		if !maps.Equal(got, want) {
			t.Fatalf("after %s: %q ranks %d rows, a corpus built from scratch %d, or with other scores", step, q, len(got), len(want))
		}
	}
}

// ranking is matchRows's answer as each matching row's score.
func ranking(q string, c *corpus) map[*row]int {
	ms := matchRows(q, c)
	defer ms.release()
	out := map[*row]int{}
	for i, r := range ms.rows {
		out[r] = ms.scores[i]
	}
	return out
}

// TestCorpusFollowsTheRows: after random histories of batches (additions,
// renames, numbers moving in place, rows R hides, removals), expiry, R, the
// cluster filter, the sort key and queries, the incremental corpus equals
// one built from scratch and the list shows what a list built in one batch
// shows.
func TestCorpusFollowsTheRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seed  uint64
		rows  int
		steps []string // drawn from at random
	}{
		{"renames and additions", 1, 2100, []string{"rename", "rename", "add", "numbers", "query"}},
		{"removals and expiry", 2, 2300, []string{"remove", "clock", "clock", "add", "rename", "query"}},
		{"what R and the cluster filter hide", 3, 2100, []string{"restarted", "R", "cluster", "rename", "remove", "clock", "query"}},
		{"everything", 4, 2600, slices.Sorted(maps.Keys(historySteps))},
		{"one chunk, then two", 5, 900, []string{"add", "add", "add", "add", "rename", "remove", "clock", "query"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newListHistory(t, tc.seed, tc.rows)
			h.m.input.SetValue("svc-001")
			h.run(h.m.refilter())
			for i := range 60 {
				step := tc.steps[h.rnd.IntN(len(tc.steps))]
				historySteps[step](h)
				label := fmt.Sprintf("step %d (%s)", i, step)
				checkOrder(t, h, label)
				if i%5 == 0 || step == "query" {
					checkCorpus(t, h.m, label)
				}
			}
		})
	}
}

// TestHiddenWhileRanking: R or the cluster filter hides rows, and the list
// is re-sorted before the ranking of the new corpus comes back: the rows it
// hides are gone already; once the ranking is back, the list shows what a
// list built in one batch shows.
func TestHiddenWhileRanking(t *testing.T) {
	for _, tc := range []struct {
		name string
		hide func(m *listModel) tea.Cmd
	}{
		{"R", func(m *listModel) tea.Cmd { cmd, _ := m.update(keyMsg("R"), 20); return cmd }},
		{"cluster east", func(m *listModel) tea.Cmd { return m.setCluster("east") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newListHistory(t, 13, 6000)
			var b crash.Batch
			for i := 0; i < 6000; i += 5 {
				g := h.groups[h.m.all[i].group.Key]
				g.State = diagnose.StateRestarted
				b.Upserted = append(b.Upserted, g)
			}
			h.batch(b)
			h.m.input.SetValue("svc")
			h.run(h.m.refilter())
			cmd := tc.hide(h.m)
			if cmd == nil {
				t.Fatal("the ranking ran on the update loop: nothing to race")
			}
			h.m.update(keyMsg("o"), 20) // a re-sort before the ranking is back
			shown := 0
			for _, k := range h.m.order {
				if h.m.hides(h.m.rows[k].group) {
					t.Fatalf("a hidden row (%s) is shown while the ranking runs", k)
				}
				shown++
			}
			if shown == 0 {
				t.Fatal("no row shown while the ranking runs")
			}
			h.run(cmd)
			checkOrder(t, h, tc.name)
		})
	}
}

// copyCorpus is a deep copy of a corpus, to see later that nothing
// changed it.
func copyCorpus(c *corpus) []chunk {
	var out []chunk
	for _, ch := range c.chunks {
		out = append(out, chunk{rows: slices.Clone(ch.rows), text: bytes.Clone(ch.text), ends: slices.Clone(ch.ends)})
	}
	return out
}

// TestOldCorpusStaysIntact: a ranking may still be reading a corpus while
// batches, expiry, R and the cluster filter build the next ones; nothing
// of it changes, and it ranks as it did.
func TestOldCorpusStaysIntact(t *testing.T) {
	h := newListHistory(t, 7, 3000)
	h.m.input.SetValue("svc-002")
	h.run(h.m.refilter())
	old := h.m.visibleCorpus()
	saved, ranked := copyCorpus(old), ranking("svc-002", old)
	for i := range 200 {
		historySteps[[]string{"rename", "add", "remove", "clock", "restarted", "R", "cluster", "query"}[i%8]](h)
		h.m.visibleCorpus()
	}
	if h.m.visibleCorpus() == old {
		t.Fatal("200 steps later the corpus is the same")
	}
	now := copyCorpus(old)
	if len(now) != len(saved) {
		t.Fatalf("the old corpus has %d chunks, had %d", len(now), len(saved))
	}
	for i := range saved {
		if !slices.Equal(now[i].rows, saved[i].rows) || !bytes.Equal(now[i].text, saved[i].text) || !slices.Equal(now[i].ends, saved[i].ends) {
			t.Fatalf("chunk %d of the old corpus changed", i)
		}
	}
	if !maps.Equal(ranking("svc-002", old), ranked) {
		t.Error("the old corpus ranks differently now")
	}
}

// TestCorpusUpdateRebuildsItsChunk: a batch renaming, adding or hiding a
// row, or expiry dropping one, rebuilds the chunks of the places it
// changed and shares the others with the corpus before; numbers moving in
// place keep the corpus itself.
func TestCorpusUpdateRebuildsItsChunk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		step    func(h *listHistory)
		rebuilt int // chunks rebuilt at most
		kept    bool
	}{
		{"a pod renamed", func(h *listHistory) {
			g := h.groups[h.m.all[1500].group.Key]
			g.Pods = []diagnose.CrashPod{g.Pods[0]}
			g.Pods[0].Name += "-renamed"
			h.batch(crash.Batch{Upserted: []crash.Group{g}})
		}, 1, false},
		{"a group added", func(h *listHistory) { h.add(1) }, 1, false},
		{"a group hidden by R", func(h *listHistory) {
			g := h.groups[h.m.all[10].group.Key]
			g.State = diagnose.StateRestarted
			h.batch(crash.Batch{Upserted: []crash.Group{g}})
		}, 1, false},
		{"a resolved group expired", func(h *listHistory) {
			h.batch(crash.Batch{Removed: []string{h.m.all[5].group.Key}})
			h.now = h.now.Add(resolvedFor + time.Second)
			h.m.expire(h.now)
		}, 2, false},
		{"a restart counted", func(h *listHistory) {
			g := h.groups[h.m.all[2000].group.Key]
			g.Restarts += 2
			h.batch(crash.Batch{Upserted: []crash.Group{g}})
		}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newListHistory(t, 11, 4000)
			h.m.hideRecent = true
			h.m.input.SetValue("svc")
			h.run(h.m.refilter())
			before := h.m.visibleCorpus()
			tc.step(h)
			after := h.m.visibleCorpus()
			if kept := after == before; kept != tc.kept {
				t.Fatalf("corpus kept: %v, want %v", kept, tc.kept)
			}
			rebuilt := 0
			for i, ch := range after.chunks {
				if i >= len(before.chunks) || ch != before.chunks[i] {
					rebuilt++
				}
			}
			if rebuilt > tc.rebuilt {
				t.Errorf("%d of %d chunks rebuilt, want %d at most", rebuilt, len(after.chunks), tc.rebuilt)
			}
			checkCorpus(t, h.m, tc.name)
		})
	}
}

// TestRankingWhileRowsChange: rankings run on their corpus off the update
// loop while batches rename, add and drop rows and rebuild chunks (the race
// detector watches); the stale ones are dropped and the last one shows
// the renamed group.
func TestRankingWhileRowsChange(t *testing.T) {
	m := benchModel(3000)
	groups := syntheticBatch(3010).Upserted
	one := crash.Batch{Upserted: groups[:1], State: crash.ConnState{Phase: crash.PhaseSynced}}
	m.list.input.SetValue("service-0000")
	done := make(chan tea.Msg, 10)
	cmd := m.list.refilter()
	for i := range 10 {
		go func(cmd tea.Cmd) { done <- cmd() }(cmd)
		m.list.onBatch(crash.Batch{Upserted: groups[3000+i : 3001+i], Removed: []string{groups[1+i].Key}}, testNow)
		m.list.expire(testNow.Add(resolvedFor + time.Second))
		one.Upserted[0].Pods[0].Name = fmt.Sprintf("service-00000-api-7d9f8c6b5-w%05d", i)
		cmd = m.list.onBatch(one, testNow)
	}
	for range 10 {
		m.Update(<-done) // stale: dropped
	}
	runCmd(t, m, cmd)
	key := one.Upserted[0].Key
	if i := m.list.index(key); i < 0 || m.list.rows[key].group.Pods[0].Name != "service-00000-api-7d9f8c6b5-w00009" {
		t.Errorf("the renamed group is at %d, with pod %s", i, m.list.rows[key].group.Pods[0].Name)
	}
	if len(m.list.rows) != 3000 {
		t.Errorf("%d rows, want 3,000 (ten added, ten expired)", len(m.list.rows))
	}
}
