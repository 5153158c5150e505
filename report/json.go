package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/crashlens/crashlens/crash"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/lint"
)

// Every JSON document crashlens writes is here, under one schema version.
const apiVersion = "crashlens/v1"

// GroupJSON is the stable JSON schema of a crash group (crashlens list -o
// json, and the "group" of each `list --watch` line):
//
//	{cluster, namespace, workload, container, init, reason, state, exitCode, meaning,
//	 cause, restarts, lastRestart, nextRestart, pods: [{name, node, restarts, state,
//	 exitCode, lastStart, lastFinish, nextRestart, message}]}
//
// Times are RFC 3339; absent times are omitted; exitCode is -1 when the
// container never terminated.
type GroupJSON struct {
	Cluster     string    `json:"cluster,omitempty"` // the kubeconfig context
	Namespace   string    `json:"namespace"`
	Workload    string    `json:"workload"`
	Container   string    `json:"container"`
	Init        bool      `json:"init,omitempty"`
	Reason      string    `json:"reason"`
	State       string    `json:"state"`
	ExitCode    int32     `json:"exitCode"`
	Meaning     string    `json:"meaning,omitempty"`
	Cause       string    `json:"cause,omitempty"` // the rulebook's short verdict (the CAUSE column)
	Restarts    int32     `json:"restarts"`
	LastRestart time.Time `json:"lastRestart,omitzero"`
	NextRestart time.Time `json:"nextRestart,omitzero"`
	Pods        []PodJSON `json:"pods"`
}

// PodJSON is one pod of a group.
type PodJSON struct {
	Name        string    `json:"name"`
	Node        string    `json:"node,omitempty"`
	Restarts    int32     `json:"restarts"`
	State       string    `json:"state"`
	ExitCode    int32     `json:"exitCode"`
	LastStart   time.Time `json:"lastStart,omitzero"`
	LastFinish  time.Time `json:"lastFinish,omitzero"`
	NextRestart time.Time `json:"nextRestart,omitzero"`
	Message     string    `json:"message,omitempty"`
}

// ToJSON converts a group to its JSON form.
func ToJSON(g crash.Group) GroupJSON {
	j := GroupJSON{Cluster: g.Cluster, Namespace: g.Namespace, Workload: g.Owner, Container: g.Container, Init: g.Init, Reason: g.Reason, State: g.State,
		ExitCode: g.ExitCode, Meaning: g.Meaning, Cause: g.Cause, Restarts: g.Restarts, LastRestart: g.LastRestart, NextRestart: g.NextRestart}
	for _, p := range g.Pods {
		j.Pods = append(j.Pods, PodJSON{Name: p.Name, Node: p.Node, Restarts: p.Restarts, State: p.State, ExitCode: p.ExitCode,
			LastStart: p.LastStart, LastFinish: p.LastFinish, NextRestart: p.NextRestart, Message: p.Message})
	}
	return j
}

// ListJSON writes {"apiVersion": "crashlens/v1", "kind": "CrashGroupList", "items": [...]}.
func ListJSON(w io.Writer, groups []crash.Group) error {
	items := make([]GroupJSON, 0, len(groups))
	for _, g := range groups {
		items = append(items, ToJSON(g))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": apiVersion, "kind": "CrashGroupList", "items": items})
}

// WatchLine is one line of `list --watch -o json`.
type WatchLine struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"` // added, changed, resolved
	Group GroupJSON `json:"group"`
}

// WatchJSON writes a view's changes as `list --watch -o json` lines: one per
// added, changed or resolved group.
type WatchJSON struct{ enc *json.Encoder }

// NewWatchJSON writes lines to w.
func NewWatchJSON(w io.Writer) *WatchJSON { return &WatchJSON{enc: json.NewEncoder(w)} }

// Write writes the lines of one batch's change.
func (w *WatchJSON) Write(at time.Time, ch crash.Change) error {
	for _, g := range ch.Removed {
		if err := w.enc.Encode(WatchLine{Time: at, Event: "resolved", Group: ToJSON(g)}); err != nil {
			return err
		}
	}
	for _, u := range ch.Upserted {
		j, event := ToJSON(u.Group), "added"
		if u.Existed {
			if !newsworthy(ToJSON(u.Old), j) {
				continue
			}
			event = "changed"
		}
		if err := w.enc.Encode(WatchLine{Time: at, Event: event, Group: j}); err != nil {
			return err
		}
	}
	return nil
}

// newsworthy ignores churn that is not news (the kubelet flipping a
// container between waiting and terminated): restarts, pods or state must
// move.
func newsworthy(a, b GroupJSON) bool {
	return a.Restarts != b.Restarts || len(a.Pods) != len(b.Pods) || a.State != b.State
}

// ExplainJSON writes `explain -o json`: the pod's identity, the
// diagnose.Report (its back-off as the history's waits show it: Backoff),
// and why any part is missing.
func ExplainJSON(w io.Writer, inc crash.Incident, r diagnose.Report, history []ledger.Crash) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The ledger's rows without their logs and events (crashlens history -o
	// json has them): a summary of what happened before this crash.
	items := make([]ledger.Crash, 0, len(history))
	for _, c := range history {
		c.LogTail, c.Events = "", ""
		items = append(items, c)
	}
	// The back-off as the Markdown report and the TUI's header show it.
	r.Backoff = Backoff(r, string(inc.Pod.UID), history)
	return enc.Encode(map[string]any{
		"apiVersion": apiVersion, "kind": "Explanation",
		"history": map[string]any{"summary": HistorySummary(history), "items": items},
		"cluster": inc.Cluster,
		"pod":     map[string]any{"namespace": inc.Pod.Namespace, "name": inc.Pod.Name, "uid": inc.Pod.UID, "container": inc.Container, "node": inc.Pod.Spec.NodeName},
		"report":  r,
		"errors": map[string]string{"owners": errText(inc.OwnersErr), "events": errText(inc.EventsErr),
			"previousLog": errText(inc.PreviousLogErr), "currentLog": errText(inc.CurrentLogErr), "usage": errText(inc.UsageErr)},
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// LintJSON writes `lint -o json`: the findings with file and line, an
// empty array when there are none.
func LintJSON(w io.Writer, rs []lint.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if rs == nil {
		rs = []lint.Result{}
	}
	return enc.Encode(rs)
}
