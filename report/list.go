package report

import (
	"cmp"
	"io"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/lipgloss/v2"

	"github.com/crashlens/crashlens/theme"
)

// Table writes the groups as an aligned table; wide adds pods, node, next
// restart and the first log error (firstErrors by group key); with several
// clusters a CLUSTER column leads. Cells are padded by their display width,
// so colours never break the alignment.
func Table(w io.Writer, groups []crash.Group, wide, clusters bool, firstErrors map[string]string, st theme.Styles, now time.Time) error {
	head := make([]string, 0, len(Columns)+4)
	if clusters {
		head = append(head, "CLUSTER")
	}
	for _, c := range Columns {
		head = append(head, c.Title)
	}
	if wide {
		head = append(head, "NODE", "POD NAMES", "FIRST LOG ERROR")
	}
	rows := [][]string{head}
	lead := 0 // the CLUSTER column shifts the others
	if clusters {
		lead = 1
	}
	for _, g := range groups {
		row := Cells(g, now)
		if clusters {
			row = append([]string{cell(g.Cluster)}, row...)
		}
		if wide {
			var names []string
			for _, p := range g.Pods {
				names = append(names, p.Name)
			}
			row = append(row, cell(g.Pods[0].Node), cell(strings.Join(names, ",")), cmp.Or(cell(firstErrors[g.Key]), "-"))
		}
		rows = append(rows, row)
	}
	return alignedTable(w, rows, func(n, i int, c string) lipgloss.Style {
		switch {
		case n == 0:
			return st.Header
		case i == ColState+lead:
			return st.State(c)
		}
		return lipgloss.NewStyle()
	})
}

// alignedTable writes rows (the first is the header) in columns two spaces
// apart, padded by display width, so styles never break the alignment.
func alignedTable(w io.Writer, rows [][]string, style func(row, col int, cell string) lipgloss.Style) error {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	var b strings.Builder
	for n, r := range rows {
		for i, c := range r {
			b.WriteString(style(n, i, c).Render(c))
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-lipgloss.Width(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
