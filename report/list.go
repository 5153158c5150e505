package report

import (
	"cmp"
	"encoding/json"
	"io"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/theme"
)

// Table writes the groups as an aligned table; wide adds pods, node, next
// restart and the first log error (firstErrors by group key). Cells are
// padded by their display width, so colours never break the alignment.
func Table(w io.Writer, groups []kube.Group, wide bool, firstErrors map[string]string, st theme.Styles, now time.Time) error {
	head := make([]string, 0, len(Columns)+3)
	for _, c := range Columns {
		head = append(head, c.Title)
	}
	if wide {
		head = append(head, "NODE", "POD NAMES", "FIRST LOG ERROR")
	}
	rows := [][]string{head}
	for _, g := range groups {
		row := Cells(g, now)
		if wide {
			var names []string
			for _, p := range g.Pods {
				names = append(names, p.Name)
			}
			row = append(row, cell(g.Pods[0].Node), cell(strings.Join(names, ",")), cmp.Or(cell(firstErrors[g.Key]), "-"))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	var b strings.Builder
	for n, r := range rows {
		for i, c := range r {
			style := lipgloss.NewStyle()
			switch {
			case n == 0:
				style = st.Header
			case i == ColState:
				style = st.State(c)
			}
			b.WriteString(style.Render(c))
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-lipgloss.Width(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// GroupJSON is the stable JSON schema of a crash group (crashlens list -o
// json, and the "group" of each `list --watch` line):
//
//	{namespace, workload, container, init, reason, state, exitCode, meaning,
//	 restarts, lastRestart, nextRestart, pods: [{name, node, restarts, state,
//	 exitCode, lastStart, lastFinish, nextRestart, message}]}
//
// Times are RFC 3339; absent times are omitted; exitCode is -1 when the
// container never terminated.
type GroupJSON struct {
	Namespace   string    `json:"namespace"`
	Workload    string    `json:"workload"`
	Container   string    `json:"container"`
	Init        bool      `json:"init,omitempty"`
	Reason      string    `json:"reason"`
	State       string    `json:"state"`
	ExitCode    int32     `json:"exitCode"`
	Meaning     string    `json:"meaning,omitempty"`
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
func ToJSON(g kube.Group) GroupJSON {
	j := GroupJSON{Namespace: g.Namespace, Workload: g.Owner, Container: g.Container, Init: g.Init, Reason: g.Reason, State: g.State,
		ExitCode: g.ExitCode, Meaning: g.Meaning, Restarts: g.Restarts, LastRestart: g.LastRestart, NextRestart: g.NextRestart}
	for _, p := range g.Pods {
		j.Pods = append(j.Pods, PodJSON{Name: p.Name, Node: p.Node, Restarts: p.Restarts, State: p.State, ExitCode: p.ExitCode,
			LastStart: p.LastStart, LastFinish: p.LastFinish, NextRestart: p.NextRestart, Message: p.Message})
	}
	return j
}

// ListJSON writes {"apiVersion": "crashlens/v1", "kind": "CrashGroupList", "items": [...]}.
func ListJSON(w io.Writer, groups []kube.Group) error {
	items := make([]GroupJSON, 0, len(groups))
	for _, g := range groups {
		items = append(items, ToJSON(g))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": "crashlens/v1", "kind": "CrashGroupList", "items": items})
}
