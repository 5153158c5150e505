package crash

import (
	"sort"
	"time"

	"github.com/crashlens/crashlens/diagnose"
)

// Group is a crash group: pods of one workload failing the same way.
type Group struct {
	Key string
	// Cluster is the kubeconfig context the group was seen in (empty when
	// the watcher was not told).
	Cluster   string
	Namespace string
	Owner     string
	Container string
	Init      bool
	Reason    string
	State     string // the newest pod's state
	ExitCode  int32
	Meaning   string
	// Cause is the rulebook's short verdict: the newest pod's status cause,
	// or what a captured crash of the group said (Recorder.Pass).
	Cause       string
	Pods        []diagnose.CrashPod // newest failure first
	Restarts    int32               // the most restarts of any pod
	LastRestart time.Time
	NextRestart time.Time // the earliest announced next restart
}

// Batch is one delivery of the change stream.
type Batch struct {
	// Cluster is the context of the watcher that sent it (Group.Cluster).
	Cluster  string
	Upserted []Group
	Removed  []string // keys of groups that are gone
	Watched  int      // pods watched (not finished)
	Crashing int      // crashing pods
	State    ConnState
	At       time.Time
	// Note is a lasting problem of the session beside the connection (the
	// crash ledger cannot write, logs are forbidden), for the status bar.
	Note string
}

// NewGroup is the crash group of pods that share a GroupKey, its summary
// filled from them (newest failure first).
func NewGroup(pods []diagnose.CrashPod) Group {
	g := Group{Key: pods[0].GroupKey(), Pods: pods}
	finishGroup(&g)
	return g
}

// finishGroup fills a group's summary from its pods.
func finishGroup(g *Group) {
	sort.Slice(g.Pods, func(i, j int) bool {
		if !g.Pods[i].LastFinish.Equal(g.Pods[j].LastFinish) {
			return g.Pods[i].LastFinish.After(g.Pods[j].LastFinish)
		}
		return g.Pods[i].Name < g.Pods[j].Name
	})
	p := g.Pods[0]
	g.Namespace, g.Owner, g.Container, g.Init = p.Namespace, p.Owner, p.Container, p.Init
	g.Reason, g.State, g.ExitCode, g.Meaning, g.Cause = p.Reason, p.State, p.ExitCode, p.Meaning, p.Cause
	g.LastRestart = p.LastFinish
	for _, q := range g.Pods {
		g.Restarts = max(g.Restarts, q.Restarts)
		if !q.NextRestart.IsZero() && (g.NextRestart.IsZero() || q.NextRestart.Before(g.NextRestart)) {
			g.NextRestart = q.NextRestart
		}
	}
}
