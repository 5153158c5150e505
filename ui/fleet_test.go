package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/theme"
)

// fleetBatch is what clusters.Fleet hands on for a cluster: the batch of its
// watcher with the cluster stamped and the keys made unique across
// clusters.
func fleetBatch(cluster string, b crash.Batch) crash.Batch {
	b.Cluster = cluster
	for i := range b.Upserted {
		b.Upserted[i].Cluster = cluster
		b.Upserted[i].Key = crash.FleetKey(cluster, b.Upserted[i].Key)
	}
	return b
}

// newFleetModel watches three clusters: prod-eu synced, prod-us lost 40 s
// ago (its rows stay, stale), staging forbidden.
func newFleetModel(t *testing.T) (*Model, *fakeSource) {
	t.Helper()
	src := &fakeSource{ch: make(chan crash.Batch), inc: map[string]crash.Incident{}}
	incs := map[string][]crash.Incident{}
	for cluster, scenarios := range map[string][]string{"prod-eu": {"probe-mixup-bad", "oomkilled"}, "prod-us": {"segfault", "image-pull"}} {
		for _, s := range scenarios {
			inc := recordedIncident(t, s)
			src.inc[inc.Pod.Name] = inc
			incs[cluster] = append(incs[cluster], inc)
		}
	}
	m := New(src, Options{Clusters: []string{"prod-eu", "prod-us", "staging"}, Scope: "each context's scope", Styles: theme.Plain(), Version: "test"})
	m.now = func() time.Time { return testNow }
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 20})
	m.Update(batchMsg(fleetBatch("prod-eu", batchOf(t, incs["prod-eu"]...))))
	m.Update(batchMsg(fleetBatch("prod-us", batchOf(t, incs["prod-us"]...))))
	m.Update(batchMsg(crash.Batch{Cluster: "prod-us", Watched: 120, Crashing: 2,
		State: crash.ConnState{Phase: crash.PhaseReconnecting, Err: "connection refused", Since: testNow.Add(-40 * time.Second)}}))
	m.Update(batchMsg(crash.Batch{Cluster: "staging", State: crash.ConnState{Phase: crash.PhaseForbidden, Verb: "list"}}))
	return m, src
}

// TestFleetList: one list over three clusters, with a CLUSTER column,
// stale rows of the lost cluster, each cluster's state in the status bar,
// the clusters panel picking a cluster filter, the fuzzy filter matching
// cluster names, and the detail asking the row's own cluster.
func TestFleetList(t *testing.T) {
	m, src := newFleetModel(t)
	out := screen(m)
	for _, want := range []string{"CLUSTER", "prod-eu ", "prod-us stale 40s", "prod-eu ✓ 2 · prod-us reconnecting · staging forbidden", "4 crashing / 240 watched"} {
		if !strings.Contains(out, want) {
			t.Errorf("the fleet list lacks %q:\n%s", want, out)
		}
	}
	goldenScreen(t, "list", out)

	press(t, m, "C")
	out = screen(m)
	for _, want := range []string{"every cluster", "prod-us  reconnecting: connection refused since 40s ago", "staging  forbidden to list pods cluster-wide"} {
		if !strings.Contains(out, want) {
			t.Errorf("the clusters panel lacks %q:\n%s", want, out)
		}
	}
	goldenScreen(t, "panel", out)
	press(t, m, "down", "down", "enter") // prod-us
	out = screen(m)
	if !strings.Contains(out, "cluster prod-us only") || strings.Contains(out, "prod-eu  ") || !strings.Contains(out, "segfault") {
		t.Errorf("the cluster filter does not show prod-us alone:\n%s", out)
	}
	press(t, m, "C", "k", "enter") // prod-eu
	if out = screen(m); !strings.Contains(out, "cluster prod-eu only") || strings.Contains(out, "segfault") {
		t.Errorf("the panel's line above prod-us does not pick prod-eu:\n%s", out)
	}
	press(t, m, "C", "j", "j", "enter") // staging
	if out = screen(m); !strings.Contains(out, "cluster staging: forbidden to list pods cluster-wide") {
		t.Errorf("a forbidden cluster's filter does not say so:\n%s", out)
	}
	press(t, m, "C", "g", "enter") // every cluster again
	if out = screen(m); !strings.Contains(out, "probe-mixup-bad") || strings.Contains(out, "only (C") {
		t.Errorf("every cluster is not back:\n%s", out)
	}

	press(t, m, "/", "p", "r", "o", "d", "-", "e", "u")
	out = screen(m)
	if !strings.Contains(out, "probe-mixup-bad") || strings.Contains(out, "segfault") {
		t.Errorf("the filter does not match the cluster name:\n%s", out)
	}
	press(t, m, "esc", "/", "s", "e", "g", "f", "enter")
	if m.detail == nil {
		t.Fatal("the detail did not open")
	}
	if len(src.asked) != 1 || src.asked[0] != "prod-us" {
		t.Errorf("the detail asked clusters %q, want prod-us", src.asked)
	}
	if !strings.Contains(screen(m), "cluster prod-us") {
		t.Errorf("the detail header does not name the cluster:\n%s", screen(m))
	}
	if a := m.detail.kubectlArgs(m.opts); a.Context != "prod-us" {
		t.Errorf("kubectl would run in context %q, want the row's prod-us", a.Context)
	}
}

// TestFleetComesBack: when a lost cluster's watcher syncs again its rows
// are live again, none lost.
func TestFleetComesBack(t *testing.T) {
	m, _ := newFleetModel(t)
	m.Update(batchMsg(crash.Batch{Cluster: "prod-us", Watched: 120, Crashing: 2, State: crash.ConnState{Phase: crash.PhaseSynced, Since: testNow}}))
	out := screen(m)
	if strings.Contains(out, "stale") || !strings.Contains(out, "prod-us ✓ 2") || !strings.Contains(out, "segfault") {
		t.Errorf("prod-us is not live again:\n%s", out)
	}
}

// TestFleetEmpty: before any cluster answers, and when none has crashes.
func TestFleetEmpty(t *testing.T) {
	src := &fakeSource{ch: make(chan crash.Batch)}
	m := New(src, Options{Clusters: []string{"a", "b"}, Styles: theme.Plain()})
	m.now = func() time.Time { return testNow }
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	if out := screen(m); !strings.Contains(out, "syncing… 0 of 2 clusters answered") || !strings.Contains(out, "a connecting · b connecting") {
		t.Errorf("before any batch:\n%s", out)
	}
	m.Update(batchMsg(crash.Batch{Cluster: "a", State: crash.ConnState{Phase: crash.PhaseSynced}, Watched: 10}))
	m.Update(batchMsg(crash.Batch{Cluster: "b", State: crash.ConnState{Phase: crash.PhaseUnauthorized}}))
	if out := screen(m); !strings.Contains(out, "no crashing pods in the 1 synced of 2 clusters (10 pods watched") || !strings.Contains(out, "b unauthorized") {
		t.Errorf("synced, nothing crashing:\n%s", out)
	}
}
