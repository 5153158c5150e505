package report

import (
	"testing"
	"time"
)

func TestAgoAndIn(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		t       time.Time
		ago, in string
	}{
		{"never", time.Time{}, "-", "-"},
		{"40 s ago", now.Add(-40 * time.Second), "40s", "now"},
		{"in 40 s", now.Add(40 * time.Second), "0s", "in 40s"},
		{"a node clock 3 days ahead", now.Add(72 * time.Hour), "0s", "in 3d"},
	} {
		if got := Ago(tc.t, now); got != tc.ago {
			t.Errorf("%s: Ago %q, want %q", tc.name, got, tc.ago)
		}
		if got := In(tc.t, now); got != tc.in {
			t.Errorf("%s: In %q, want %q", tc.name, got, tc.in)
		}
	}
}
