package diagnose

import (
	"testing"
	"time"
)

// TestRowAndDetailAgree: the list's row (Classify) and the detail
// (Diagnose, asked for the failing container as the list opens it) agree on
// every recording, at the recording's time and once a stuck pod's minute is
// up: same container, same state, same exit meaning, and a failing row is a
// crashing report.
func TestRowAndDetailAgree(t *testing.T) {
	fixtures := loadFixtures(t)
	for name, fx := range fixtures {
		for _, later := range []time.Duration{0, 2 * time.Minute} {
			in := fx.in
			in.Now = in.Now.Add(later)
			in.Container = ""
			v := Classify(in.Pod, in.Now)
			r := Diagnose(in)
			if !v.Failing && v.Recheck.IsZero() {
				if r.Crashing {
					t.Errorf("%s +%s: the row says healthy, the detail says crashing (%s)", name, later, r.State)
				}
				continue
			}
			row := v.Pod
			if row.Container != r.Pod.Container || row.Init != r.Pod.Init {
				t.Errorf("%s +%s: row blames %s (init %v), detail %s (init %v)", name, later, row.Container, row.Init, r.Pod.Container, r.Pod.Init)
			}
			if row.State != r.State {
				t.Errorf("%s +%s: row state %q, detail state %q", name, later, row.State, r.State)
			}
			if v.Failing && !r.Crashing {
				t.Errorf("%s +%s: the row says failing, the detail says not crashing", name, later)
			}
			switch {
			case r.Exit == nil && row.ExitCode != -1:
				t.Errorf("%s +%s: row exit %d, detail has no exit", name, later, row.ExitCode)
			case r.Exit != nil && (row.ExitCode != r.Exit.Code || row.Meaning != r.Exit.Meaning || row.Signal != r.Exit.Signal):
				t.Errorf("%s +%s: row exit %d %q %q, detail %d %q %q", name, later, row.ExitCode, row.Meaning, row.Signal, r.Exit.Code, r.Exit.Meaning, r.Exit.Signal)
			}
		}
	}
}
