package ui

import (
	"strings"
	"testing"
)

// TestDetailSaysWhatTheContainerIs: the header names a native sidecar and
// an init step as such, since that decides what their crash does to the
// pod; an app container carries no label.
func TestDetailSaysWhatTheContainerIs(t *testing.T) {
	for _, tc := range []struct {
		scenario, want string
	}{
		{"sidecar-crashloop", "container log-shipper (native sidecar; c: next)"},
		{"init-crashloop", "(init step; c: next)"},
		{"oomkilled", "(c: next)"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			m, _ := newTestModel(t, tc.scenario)
			press(t, m, "enter")
			if m.detail == nil || m.detail.rep == nil {
				t.Fatal("detail not open or not loaded")
			}
			out := screen(m)
			if !strings.Contains(out, tc.want) {
				t.Errorf("header lacks %q:\n%s", tc.want, out)
			}
			if tc.scenario == "oomkilled" && (strings.Contains(out, "sidecar;") || strings.Contains(out, "init step;")) {
				t.Errorf("an app container labelled:\n%s", out)
			}
		})
	}
}
