package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// HistoryTable writes the ledger's rows as an aligned table, newest first.
func HistoryTable(w io.Writer, rows []ledger.Crash, st theme.Styles, now time.Time) error {
	table := [][]string{{"FINISHED", "AGO", "NAMESPACE", "WORKLOAD", "POD", "CONTAINER", "RAN", "EXIT", "KILLER", "FIRST ERROR"}}
	for _, r := range rows {
		table = append(table, []string{r.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"), Ago(r.FinishedAt, now), sanitize.Line(r.Namespace),
			sanitize.Line(ShortOwner(r.Workload)), sanitize.Line(r.Pod), sanitize.Line(r.Container), Age(time.Duration(r.RunSeconds * float64(time.Second))),
			fmt.Sprintf("%d %s", r.ExitCode, cmp.Or(r.Signal, r.Reason)), cmp.Or(r.Killer, "-"),
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
