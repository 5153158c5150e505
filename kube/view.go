package kube

import (
	"context"
	"fmt"
	"time"
)

// View is the current set of crash groups, folded from the watcher's
// batches: what `crashlens list` prints, what `list --watch` compares each
// batch with, and what the TUI's list shows.
type View struct {
	groups   map[string]Group
	State    ConnState
	Watched  int
	Crashing int
	At       time.Time
	Note     string // the newest lasting problem (Batch.Note)
}

// NewView returns an empty view.
func NewView() *View { return &View{groups: map[string]Group{}} }

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
	v.State, v.Watched, v.Crashing, v.At, v.Note = b.State, b.Watched, b.Crashing, b.At, b.Note
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

// Snapshot runs a watcher until its first full view and returns it: the
// groups of `crashlens list`.
func Snapshot(ctx context.Context, s *Session, selector string, timeout time.Duration) ([]Group, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := s.Watcher(selector)
	if err != nil {
		return nil, err
	}
	go w.Run(ctx)
	view := NewView()
	for b := range w.Batches() {
		view.Apply(b)
		switch b.State.Phase {
		case PhaseSynced:
			return view.Groups(), nil
		case PhaseForbidden:
			return nil, fmt.Errorf("%s: %s", s.Target.Describe(), b.State)
		}
	}
	return nil, fmt.Errorf("%s: no full pod list within %s", s.Target.Describe(), timeout)
}
