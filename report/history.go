package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// HistoryTable writes the ledger's rows as an aligned table, newest first.
func HistoryTable(w io.Writer, rows []ledger.Crash, st theme.Styles, now time.Time) error {
	table := [][]string{{"FINISHED", "AGO", "NAMESPACE", "WORKLOAD", "POD", "CONTAINER", "RAN", "EXIT", "CAUSE", "KILLER", "FIRST ERROR"}}
	for _, r := range rows {
		table = append(table, []string{r.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"), Ago(r.FinishedAt, now), sanitize.Line(r.Namespace),
			sanitize.Line(ShortOwner(r.Workload)), sanitize.Line(r.Pod), sanitize.Line(r.Container), Age(time.Duration(r.RunSeconds * float64(time.Second))),
			RowExit(r), cmp.Or(sanitize.Line(r.Cause), "-"), cmp.Or(r.Killer, "-"),
			cmp.Or(sanitize.Truncate(sanitize.Line(r.FirstError), 80), "-")})
	}
	return alignedTable(w, table, func(n, _ int, _ string) lipgloss.Style {
		if n == 0 {
			return st.Header
		}
		return lipgloss.NewStyle()
	})
}

// HistoryJSON writes {"apiVersion": "crashlens/v1", "kind": "CrashHistory",
// "items": [...]}, one ledger.Crash per item, newest first.
func HistoryJSON(w io.Writer, rows []ledger.Crash) error {
	if rows == nil {
		rows = []ledger.Crash{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": apiVersion, "kind": "CrashHistory", "items": rows})
}

// HistorySummary is the ledger's rows of one workload's container in one
// sentence, for explain and the incident report: "12 crashes in 2 pods
// since 2026-12-01 02:10 UTC, all exit 137 (liveness kill)". Empty for no
// rows.
func HistorySummary(rows []ledger.Crash) string {
	if len(rows) == 0 {
		return ""
	}
	type kind struct {
		code  int32
		cause string
	}
	counts := map[kind]int{}
	var order []kind
	pods := map[string]bool{}
	first := rows[0].FinishedAt
	for _, r := range rows {
		k := kind{r.ExitCode, cmp.Or(r.Cause, r.TopFinding, r.Killer, "-")}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
		pods[r.PodUID] = true
		if r.FinishedAt.Before(first) {
			first = r.FinishedAt
		}
	}
	slices.SortStableFunc(order, func(a, b kind) int { return counts[b] - counts[a] })
	s := fmt.Sprintf("%d %s", len(rows), plural(len(rows), "crash", "crashes"))
	if len(pods) > 1 {
		s += fmt.Sprintf(" in %d pods", len(pods))
	}
	s += " since " + first.UTC().Format("2006-01-02 15:04 UTC")
	if len(order) == 1 {
		return s + fmt.Sprintf(", all exit %s (%s)", exitCode(order[0].code), sanitize.Line(order[0].cause))
	}
	var parts []string
	for i, k := range order {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d other", len(rows)-shown(counts, order[:3])))
			break
		}
		parts = append(parts, fmt.Sprintf("%d exit %s (%s)", counts[k], exitCode(k.code), sanitize.Line(k.cause)))
	}
	return s + ": " + strings.Join(parts, ", ")
}

// RowExit is a ledger row's exit as the history tables show it: the code
// and the signal or reason; "?" for an exit nobody saw (a whole-pod
// restart's, of which the kubelet keeps only a placeholder).
func RowExit(r ledger.Crash) string {
	return strings.TrimSpace(exitCode(r.ExitCode) + " " + sanitize.Line(cmp.Or(r.Signal, r.Reason)))
}

func exitCode(code int32) string {
	if code < 0 {
		return "?"
	}
	return strconv.Itoa(int(code))
}

func shown[K comparable](counts map[K]int, keys []K) int {
	n := 0
	for _, k := range keys {
		n += counts[k]
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
