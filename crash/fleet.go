package crash

import (
	"slices"
	"strings"
)

// FleetKey makes a group key unique across clusters: the watcher's keys
// are unique within one.
func FleetKey(cluster, key string) string { return cluster + "\x00" + key }

// TagBatch returns b with its cluster and its keys made unique across
// clusters. It copies what it changes: the watcher still reads the batch
// it sent.
func TagBatch(cluster string, b Batch) Batch {
	b.Cluster = cluster
	up := make([]Group, len(b.Upserted))
	for i, g := range b.Upserted {
		g.Key, g.Cluster = FleetKey(cluster, g.Key), cluster
		up[i] = g
	}
	b.Upserted = up
	rm := make([]string, len(b.Removed))
	for i, k := range b.Removed {
		rm[i] = FleetKey(cluster, k)
	}
	b.Removed = rm
	return b
}

// ShortClusterNames names each context as briefly as stays unambiguous:
// the part after the last '/' or ':' (an EKS ARN's cluster/NAME, an
// OpenShift context's user/server), or after the last '_' of a GKE
// context (gke_PROJECT_ZONE_NAME); the whole name where two would read
// the same.
func ShortClusterNames(names []string) map[string]string {
	short := make(map[string]string, len(names))
	seen := map[string]int{}
	for _, n := range names {
		s := n
		if i := strings.LastIndexAny(s, "/:"); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
		if strings.HasPrefix(n, "gke_") && strings.Count(n, "_") >= 3 {
			s = n[strings.LastIndexByte(n, '_')+1:]
		}
		short[n] = s
		seen[s]++
	}
	for _, n := range names {
		if seen[short[n]] > 1 || slices.Contains(names, short[n]) && short[n] != n {
			short[n] = n
		}
	}
	return short
}

// JoinNotes joins the non-empty notes of a status line with " · ".
func JoinNotes(notes ...string) string {
	var kept []string
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, " · ")
}
