// Package theme is the only place with colours and styles. One Styles
// value is built here and handed to whatever renders: the TUI, and the
// table of `crashlens list` when it writes to a colour terminal.
package theme

import (
	"os"
	"strings"

	"charm.land/lipgloss/v2"
)

// Styles are all the styles crashlens uses.
type Styles struct {
	Header   lipgloss.Style
	Title    lipgloss.Style
	Muted    lipgloss.Style
	Selected lipgloss.Style
	Match    lipgloss.Style // matched characters of the fuzzy filter
	Error    lipgloss.Style
	Warning  lipgloss.Style
	OK       lipgloss.Style
	Added    lipgloss.Style // diff +
	Removed  lipgloss.Style // diff -
	Border   lipgloss.Style
	Focused  lipgloss.Style // the focused pane's border
	Key      lipgloss.Style // a key in the help bar
	Colour   bool
}

// Default reads well on dark and light terminals: the colours are picked
// from the middle of the palette, never white-on-white or black-on-black.
func Default() Styles {
	red, yellow, green, blue, grey := lipgloss.Color("9"), lipgloss.Color("11"), lipgloss.Color("10"), lipgloss.Color("12"), lipgloss.Color("8")
	return Styles{
		Header:   lipgloss.NewStyle().Bold(true),
		Title:    lipgloss.NewStyle().Bold(true).Foreground(blue),
		Muted:    lipgloss.NewStyle().Foreground(grey),
		Selected: lipgloss.NewStyle().Reverse(true),
		Match:    lipgloss.NewStyle().Underline(true).Bold(true),
		Error:    lipgloss.NewStyle().Foreground(red),
		Warning:  lipgloss.NewStyle().Foreground(yellow),
		OK:       lipgloss.NewStyle().Foreground(green),
		Added:    lipgloss.NewStyle().Foreground(green),
		Removed:  lipgloss.NewStyle().Foreground(red),
		Border:   lipgloss.NewStyle().Foreground(grey),
		Focused:  lipgloss.NewStyle().Foreground(blue),
		Key:      lipgloss.NewStyle().Bold(true),
		Colour:   true,
	}
}

// Plain has no colours: for NO_COLOR, pipes and golden tests. Selection
// and matches stay visible through reverse video and underline.
func Plain() Styles {
	n := lipgloss.NewStyle()
	return Styles{Header: n, Title: n, Muted: n, Selected: n.Reverse(true), Match: n.Underline(true), Error: n, Warning: n,
		OK: n, Added: n, Removed: n, Border: n, Focused: n, Key: n}
}

// ForTerminal picks Default on a colour terminal and Plain otherwise
// (NO_COLOR set, TERM=dumb, or not a terminal).
func ForTerminal(isTerminal bool) Styles {
	if !isTerminal || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return Plain()
	}
	return Default()
}

// State colours a container state by how bad it is.
func (s Styles) State(state string) lipgloss.Style {
	switch {
	case strings.Contains(state, "OOMKilled"), strings.Contains(state, "CrashLoopBackOff"), strings.Contains(state, "Error"),
		strings.Contains(state, "BackOff"), strings.Contains(state, "Err"), strings.Contains(state, "killed"):
		return s.Error
	}
	return s.Warning
}
