package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/theme"
)

// newFleet80Model is an 80x24 fleet run over three contexts with
// allScenarios spread over them (contexts[0] gets the first four, [1] the
// next three, [2] the rest); lost: contexts[1] lost its connection 40 s
// ago.
func newFleet80Model(t *testing.T, contexts [3]string, lost bool) *Model {
	t.Helper()
	src := &fakeSource{ch: make(chan crash.Batch), inc: map[string]crash.Incident{}}
	m := New(src, Options{Clusters: contexts[:], Scope: "each context's scope", Styles: theme.Plain(), Version: "test"})
	m.now = func() time.Time { return testNow }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	for i, scenarios := range [][]string{allScenarios[:4], allScenarios[4:7], allScenarios[7:]} {
		var incs []crash.Incident
		for _, s := range scenarios {
			inc := recordedIncident(t, s)
			src.inc[inc.Pod.Name] = inc
			incs = append(incs, inc)
		}
		m.Update(batchMsg(fleetBatch(contexts[i], batchOf(t, incs...))))
	}
	if lost {
		m.Update(batchMsg(crash.Batch{Cluster: contexts[1], Watched: 120, Crashing: 3,
			State: crash.ConnState{Phase: crash.PhaseReconnecting, Err: "connection refused", Since: testNow.Add(-40 * time.Second)}}))
	}
	return m
}

// TestFleetList80: a fleet list in an 80x24 terminal keeps which cluster
// (CLUSTER, its names whole) with the answer (WORKLOAD, STATE, CAUSE), as
// report.Narrowing says. With names crash.ShortClusterNames shortens to
// seven characters it keeps RESTARTS and LAST too, even with a lost
// cluster: its "stale 40s" note gives way first (the status bar says it).
// With longer names (up to a quarter of the width) LAST and RESTARTS go
// before any of a name is cut: cut to fit, kind-payments-eu and
// kind-payments-us would read alike.
func TestFleetList80(t *testing.T) {
	tests := []struct {
		name     string
		contexts [3]string
		lost     bool
		short    [3]string // the CLUSTER cells
		columns  []string  // the header, in order
	}{
		{"short-names-one-lost",
			[3]string{"gke_acme-prod_europe-west1_prod-eu", "arn:aws:eks:us-east-1:123456789012:cluster/prod-us", "staging"}, true,
			[3]string{"prod-eu", "prod-us", "staging"},
			[]string{"CLUSTER", "WORKLOAD", "STATE", "CAUSE", "RESTARTS", "LAST"}},
		{"long-names",
			[3]string{"kind-payments-eu", "kind-payments-us", "kind-checkout-dev"}, false,
			[3]string{"kind-payments-eu", "kind-payments-us", "kind-checkout-dev"},
			[]string{"CLUSTER", "WORKLOAD", "STATE", "CAUSE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFleet80Model(t, tt.contexts, tt.lost)
			out := screen(m)
			lines := strings.Split(out, "\n")
			if len(lines) > 24 {
				t.Errorf("%d lines in a 24-line terminal", len(lines))
			}
			if header := strings.Fields(lines[0]); !slices.Equal(header, tt.columns) {
				t.Errorf("80 columns: header %v, want %v", header, tt.columns)
			}
			for _, cluster := range tt.short {
				if !strings.Contains(out, "\n"+cluster+" ") {
					t.Errorf("no row starts with the whole cluster name %q:\n%s", cluster, out)
				}
			}
			for _, cause := range []string{"OOM killed", "segfault", "image pull failed", "exits 0"} {
				if !strings.Contains(out, cause) {
					t.Errorf("80 columns: the cause %q is not on screen:\n%s", cause, out)
				}
			}
			if tt.lost && !strings.Contains(out, tt.short[1]+" reconnecting") {
				t.Errorf("the status bar does not say %s is away:\n%s", tt.short[1], out)
			}
			goldenScreen(t, "list-80", out)
		})
	}
}

// TestFitCluster: CLUSTER takes its widest cell, up to a quarter of the
// width; a stale note gives way before LAST does, a name never.
func TestFitCluster(t *testing.T) {
	// Column contents of the recorded list: LAST needs 5.
	content := make([]int, len(report.Columns))
	for i, c := range report.Columns {
		content[i] = max(len(c.Title), c.Min)
	}
	content[report.ColWorkload], content[report.ColCause], content[report.ColLast] = 22, 40, 5
	tests := []struct {
		name                string
		w, cellW, nameW     int
		wantW               int
		wantNotes, wantLast bool
	}{
		{"wide: the note stays", 160, 17, 7, 17, true, true},
		{"80: the note goes, LAST stays", 80, 17, 7, 7, false, true},
		{"80, long names: LAST goes, the name stays whole", 80, 17, 17, 17, true, false},
		{"a name past a quarter is cut", 80, 30, 30, 20, true, false},
		{"not a fleet run", 80, 0, 0, 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, widths, notes := fitCluster(tt.w, tt.cellW, tt.nameW, content)
			if w != tt.wantW || notes != tt.wantNotes || (widths[report.ColLast] > 0) != tt.wantLast {
				t.Errorf("CLUSTER %d notes %v LAST %d; want %d, %v, LAST shown %v", w, notes, widths[report.ColLast], tt.wantW, tt.wantNotes, tt.wantLast)
			}
		})
	}
}
