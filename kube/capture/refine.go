package capture

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/crashlens/crashlens/crash"
)

// The list's CAUSE column, refined: a row knows only the pod's status, a
// captured crash knows its events and log. What the rulebook made of the
// group's last capture replaces the status cause, in every batch the
// Recorder passes on and, when a capture lands between batches, in a batch
// of its own.

// learn keeps the cause a capture found for its group.
func (r *Recorder) learn(group, cause string) {
	if group == "" || cause == "" {
		return
	}
	r.mu.Lock()
	changed := r.causes[group] != cause
	r.causes[group] = cause
	r.mu.Unlock()
	if changed {
		r.signal()
	}
}

// signal wakes Pass without blocking (one pending wake-up is enough).
func (r *Recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// refine sets each upserted group's cause from its captures and the
// batch's note from the newest lasting problem. The groups are copied
// first: the watcher still reads the batch it sent.
func (r *Recorder) refine(b *crash.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.Upserted = slices.Clone(b.Upserted)
	for i := range b.Upserted {
		if c := r.causes[b.Upserted[i].Key]; c != "" {
			b.Upserted[i].Cause = c
		}
	}
	b.Note = r.lastNote
}

// Pass records what the batches show and hands them on, refined; it
// re-sends the groups a later capture refined, and the note when a
// lasting problem appears. The channel closes when in does or ctx ends.
func (r *Recorder) Pass(ctx context.Context, in <-chan crash.Batch) <-chan crash.Batch {
	out := make(chan crash.Batch, 1)
	go func() {
		defer close(out)
		groups := map[string]crash.Group{} // as last sent
		var last crash.Batch
		for {
			var b crash.Batch
			select {
			case <-ctx.Done():
				return
			case nb, ok := <-in:
				if !ok {
					return
				}
				r.Observe(nb)
				b = nb
			case <-r.changed:
				b = crash.Batch{Cluster: last.Cluster, State: last.State, Watched: last.Watched, Crashing: last.Crashing, At: time.Now()}
				r.mu.Lock()
				for k, g := range groups {
					if c := r.causes[k]; c != "" && c != g.Cause {
						b.Upserted = append(b.Upserted, g)
					}
				}
				noteChanged := r.lastNote != last.Note
				r.mu.Unlock()
				if len(b.Upserted) == 0 && !noteChanged {
					continue
				}
				sort.Slice(b.Upserted, func(i, j int) bool { return b.Upserted[i].Key < b.Upserted[j].Key })
			}
			r.refine(&b)
			for _, k := range b.Removed {
				delete(groups, k)
			}
			for _, g := range b.Upserted {
				groups[g.Key] = g
			}
			last = b
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
