package ui

import (
	"slices"
	"testing"

	"github.com/crashlens/crashlens/report"
)

// TestColumnsFollowContent: at 160 columns every column is as wide as its
// widest cell (no padding takes the place of a cut name); narrower, padding
// goes first, then characters of the exit's meaning, state and container,
// then whole columns the answer implies (PODS, NEXT, EXIT, CONTAINER);
// WORKLOAD, STATE, CAUSE, RESTARTS and LAST stay at 80 columns and up, the
// cause whole at 100, NEXT still there at 120 (report.Narrowing).
func TestColumnsFollowContent(t *testing.T) {
	content := []int{9, 20, 15, 21, 19, 24, 8, 5, 6, 4} // NAMESPACE WORKLOAD CONTAINER STATE EXIT CAUSE RESTARTS LAST NEXT PODS: cells or titles, whichever is wider
	if got := fitColumns(160, content); !slices.Equal(got, content) {
		t.Errorf("160 columns: %v, want the content widths %v", got, content)
	}
	for _, w := range []int{80, 100, 120} {
		got := fitColumns(w, content)
		used := -1
		for i, x := range got {
			if x > content[i] {
				t.Errorf("%d columns: %s padded to %d for %d", w, report.Columns[i].Title, x, content[i])
			}
			if x > 0 {
				used += x + 1
			}
		}
		if used > w {
			t.Errorf("%d columns: %v uses %d", w, got, used)
		}
		for i, x := range got {
			if x > 0 && x < len(report.Columns[i].Title) {
				t.Errorf("%d columns: %s is %d wide, narrower than its title", w, report.Columns[i].Title, x)
			}
		}
		for _, c := range []int{report.ColRestarts, report.ColLast, report.ColWorkload, report.ColState, report.ColCause} {
			if got[c] == 0 {
				t.Errorf("%d columns: %s dropped: %v", w, report.Columns[c].Title, got)
			}
		}
		if got[report.ColState] < 16 || got[report.ColCause] < 16 {
			t.Errorf("%d columns: state cut below \"CrashLoopBackOff\" or the cause below 16: %v", w, got)
		}
	}
	if got := fitColumns(100, content); got[report.ColCause] != 24 || got[report.ColWorkload] != 20 {
		t.Errorf("100 columns: CAUSE or the workload cut: %v", got)
	}
	if got := fitColumns(120, content); got[report.ColNext] == 0 || got[report.ColExit] < 11 {
		t.Errorf("120 columns: NEXT or EXIT dropped: %v", got)
	}
	if got := fitColumns(40, content); got[report.ColWorkload] == 0 || got[report.ColState] == 0 {
		t.Errorf("40 columns: workload or state dropped: %v", got)
	}
}
