package ledger

import "sort"

// Merge joins rows read from two ledgers (the local one and the in-cluster
// recorder's) into one history, newest first, at most limit rows (0: no
// bound): a container instance both recorded (same pod UID, container and
// restart) is one row, the first list's.
func Merge(a, b []Crash, limit int) []Crash {
	type instance struct {
		uid, container string
		restart        int32
	}
	seen := make(map[instance]bool, len(a)+len(b))
	out := make([]Crash, 0, len(a)+len(b))
	for _, rows := range [][]Crash{a, b} {
		for _, r := range rows {
			k := instance{r.PodUID, r.Container, r.Restart}
			if !seen[k] {
				seen[k] = true
				out = append(out, r)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FinishedAt.After(out[j].FinishedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
