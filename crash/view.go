package crash

import "time"

// View is the current set of crash groups, folded from the watcher's
// batches: what `crashlens list` prints, what `list --watch` compares each
// batch with, and what the TUI's list shows.
type View struct {
	groups map[string]Group
	// State, At and Note are the newest batch's; Watched and Crashing are
	// the sums over the clusters.
	State    ConnState
	Watched  int
	Crashing int
	At       time.Time
	Note     string // the newest lasting problem (Batch.Note)
	// Clusters is each cluster's own state, by Batch.Cluster: one entry in
	// a single-cluster run.
	Clusters map[string]ClusterState
}

// ClusterState is what a cluster's newest batch said about it.
type ClusterState struct {
	State    ConnState
	Watched  int
	Crashing int
	At       time.Time
	Note     string
}

// Live says whether the cluster's rows are current: its watcher is
// connected (synced, or relisting on a connection that answers).
func (c ClusterState) Live() bool {
	switch c.State.Phase {
	case PhaseSynced, PhaseRelisting, PhaseSyncing:
		return true
	}
	return false
}

// NewView returns an empty view.
func NewView() *View { return &View{groups: map[string]Group{}, Clusters: map[string]ClusterState{}} }

// Change is what one batch did to the view, in the batch's order.
type Change struct {
	Removed  []Group // as they were last seen
	Upserted []Upsert
}

// Upsert is one group of a batch and what the view held for it before.
type Upsert struct {
	Group
	Old     Group
	Existed bool // false: the group is new
}

// Apply folds a batch into the view and says what changed.
func (v *View) Apply(b Batch) Change {
	var ch Change
	for _, k := range b.Removed {
		if g, ok := v.groups[k]; ok {
			delete(v.groups, k)
			ch.Removed = append(ch.Removed, g)
		}
	}
	for _, g := range b.Upserted {
		old, ok := v.groups[g.Key]
		ch.Upserted = append(ch.Upserted, Upsert{Group: g, Old: old, Existed: ok})
		v.groups[g.Key] = g
	}
	v.Clusters[b.Cluster] = ClusterState{State: b.State, Watched: b.Watched, Crashing: b.Crashing, At: b.At, Note: b.Note}
	v.State, v.At, v.Note = b.State, b.At, b.Note
	v.Watched, v.Crashing = 0, 0
	for _, c := range v.Clusters {
		v.Watched += c.Watched
		v.Crashing += c.Crashing
	}
	return ch
}

// Len is the number of groups.
func (v *View) Len() int { return len(v.groups) }

// Get returns the group with the key.
func (v *View) Get(key string) (Group, bool) {
	g, ok := v.groups[key]
	return g, ok
}

// Groups returns every group, in no order.
func (v *View) Groups() []Group {
	out := make([]Group, 0, len(v.groups))
	for _, g := range v.groups {
		out = append(out, g)
	}
	return out
}
