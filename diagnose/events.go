package diagnose

import (
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// MaxEvents bounds how many folded events a report keeps.
const MaxEvents = 100

// EventSummary is one folded event: repeats of the same reason and message
// on the same object count as one line, "(x39 over 37m)".
type EventSummary struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Object  string    `json:"object"` // Pod/name, ReplicaSet/name, ...
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	First   time.Time `json:"first,omitzero"`
	Last    time.Time `json:"last,omitzero"`
}

// Repeat is the "(x39 over 37m)" suffix, empty for a single event.
func (e EventSummary) Repeat() string {
	if e.Count <= 1 {
		return ""
	}
	return "(x" + strconv.Itoa(int(e.Count)) + " over " + humanDuration(e.Last.Sub(e.First)) + ")"
}

// FoldEvents merges repeats and sorts newest first, keeping at most MaxEvents.
func FoldEvents(events []corev1.Event) []EventSummary {
	byKey := map[string]*EventSummary{}
	var order []string
	for i := range events {
		ev := &events[i]
		first, last := EventTimes(ev)
		obj := ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name
		key := ev.Type + "\x00" + ev.Reason + "\x00" + obj + "\x00" + ev.Message
		n := max(ev.Count, 1)
		if ev.Series != nil && ev.Series.Count > n {
			n = ev.Series.Count
		}
		if s, ok := byKey[key]; ok {
			s.Count += n
			if first.Before(s.First) {
				s.First = first
			}
			if last.After(s.Last) {
				s.Last = last
			}
			continue
		}
		byKey[key] = &EventSummary{Type: ev.Type, Reason: ev.Reason, Object: obj, Message: ev.Message, Count: n, First: first, Last: last}
		order = append(order, key)
	}
	out := make([]EventSummary, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	if len(out) > MaxEvents {
		out = out[:MaxEvents]
	}
	return out
}
