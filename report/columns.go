package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/crashlens/crashlens/sanitize"
)

// Column is one column of the crash list. The TUI's list screen and
// `crashlens list` show the same columns, with the same cells, in this order.
type Column struct {
	Title string
	// Min is the least a text column shrinks to in a narrow terminal (at
	// least its title).
	Min int
	// Cell is the group's cell, sanitized, without styles.
	Cell func(g crash.Group, now time.Time) string
}

// Indexes into Columns, for code that styles or highlights one of them.
const (
	ColNamespace = iota
	ColWorkload
	ColContainer
	ColState
	ColExit
	ColCause
	ColRestarts
	ColLast
	ColNext
	ColPods
)

// Columns of the crash list.
var Columns = []Column{
	ColNamespace: {"NAMESPACE", 9, func(g crash.Group, _ time.Time) string { return sanitize.Line(g.Namespace) }},
	ColWorkload:  {"WORKLOAD", 14, func(g crash.Group, _ time.Time) string { return sanitize.Line(ShortOwner(g.Owner)) }},
	ColContainer: {"CONTAINER", 9, func(g crash.Group, _ time.Time) string { return sanitize.Line(g.Container) }},
	ColState:     {"STATE", 16, func(g crash.Group, _ time.Time) string { return sanitize.Line(g.State) }},
	ColExit:      {"EXIT", 11, func(g crash.Group, _ time.Time) string { return ExitText(g.ExitCode, sanitize.Line(g.Meaning)) }},
	ColCause:     {"CAUSE", 24, func(g crash.Group, _ time.Time) string { return sanitize.Line(g.Cause) }},
	ColRestarts:  {"RESTARTS", 0, func(g crash.Group, _ time.Time) string { return strconv.Itoa(int(g.Restarts)) }},
	ColLast:      {"LAST", 0, func(g crash.Group, now time.Time) string { return Ago(g.LastRestart, now) }},
	ColNext:      {"NEXT", 0, func(g crash.Group, now time.Time) string { return In(g.NextRestart, now) }},
	ColPods:      {"PODS", 0, func(g crash.Group, _ time.Time) string { return strconv.Itoa(len(g.Pods)) }},
}

// Narrowing is what a terminal too narrow for every cell gives up, in
// order, once padding is gone. It is decided by what an on-call engineer
// needs first: which workload (WORKLOAD), why it fails (CAUSE), how it is
// doing now (STATE, RESTARTS, LAST); then where (NAMESPACE). What the
// answer already implies goes before the answer: the exit's meaning, then
// PODS and NEXT, then the whole EXIT column (the cause names the kill or
// the error), then CONTAINER. Then the cause's characters past its Min
// (half the longest cause), NAMESPACE (context, often the -n scope), the
// workload's characters, LAST and RESTARTS; CAUSE goes last of all, and
// WORKLOAD and STATE always stay. At 80 columns a list shows WORKLOAD,
// STATE, CAUSE, RESTARTS and LAST, and NAMESPACE when the causes are short.
//
// A fleet run's CLUSTER column (the TUI's only; ui/listview.go fitCluster)
// stands before this order: it is taken first, up to a quarter of the
// width, because the same workload in two clusters is two incidents and
// the cluster says where to look and run kubectl, which an on-call
// engineer needs before LAST or RESTARTS. Names come shortened by
// crash.ShortClusterNames and are not cut further to keep LAST: cut,
// kind-payments-eu and kind-payments-us read alike. A lost cluster's
// "stale 40s" note goes before LAST (the status bar says the cluster is
// away, and its rows are muted). So at 80 columns a fleet list shows
// CLUSTER, WORKLOAD, STATE, CAUSE, RESTARTS and LAST while the short names
// are at most 7 characters (prod-eu); with longer ones LAST goes, then
// RESTARTS, and CAUSE stays.
var Narrowing = []Narrow{
	{ColExit, true}, {ColState, true}, {ColContainer, true}, {ColNamespace, true},
	{ColPods, false}, {ColNext, false}, {ColExit, false}, {ColContainer, false},
	{ColCause, true}, {ColNamespace, false}, {ColWorkload, true},
	{ColLast, false}, {ColRestarts, false}, {ColCause, false},
}

// Narrow is one step of Narrowing: shrink a column to its Min, or drop it.
type Narrow struct {
	Col    int
	Shrink bool
}

// Cells is a group's row: one cell per column.
func Cells(g crash.Group, now time.Time) []string {
	out := make([]string, len(Columns))
	for i, c := range Columns {
		out[i] = c.Cell(g, now)
	}
	return out
}

// Urgency is the list's default order: the most recent failure first, then
// the most restarts, then the key (so equal groups never swap places).
func Urgency(a, b crash.Group) int {
	if c := b.LastRestart.Compare(a.LastRestart); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Restarts, a.Restarts); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// SortByUrgency sorts groups in the list's default order.
func SortByUrgency(groups []crash.Group) { slices.SortStableFunc(groups, Urgency) }

// shortKinds are kubectl's short names, to keep the workload column for
// the name.
var shortKinds = map[string]string{"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs",
	"CronJob": "cronjob", "Job": "job", "Pod": "pod", "ReplicationController": "rc"}

// ShortOwner is "deploy/api" for "Deployment/api".
func ShortOwner(owner string) string {
	kind, name, ok := strings.Cut(owner, "/")
	if s, known := shortKinds[kind]; ok && known {
		return s + "/" + name
	}
	return owner
}

// Age renders a duration as kubectl does ("45s", "3m12s", "15m", "5h3m",
// "12d"): the one duration format of crashlens's screens and reports.
func Age(d time.Duration) string { return duration.HumanDuration(d) }

// Ago renders how long ago t was; "-" for zero, "0s" for a time ahead of
// now (a node's clock ahead of this machine's: HumanDuration would print
// "<invalid>").
func Ago(t, now time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return Age(max(now.Sub(t), 0))
}

// In renders how long until t ("in 40s"); "-" for zero, "now" when past.
func In(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !t.After(now) {
		return "now"
	}
	return "in " + Age(t.Sub(now))
}

// ExitText is the exit column: "137 SIGKILL", "-" when it never ran.
func ExitText(code int32, meaning string) string {
	if code < 0 {
		return "-"
	}
	if meaning == "" {
		return fmt.Sprint(code)
	}
	return fmt.Sprintf("%d %s", code, meaning)
}
