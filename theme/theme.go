// Package theme is the only place with colours and styles. One Styles
// value is built here and handed to whatever renders: the TUI, and the
// table of `crashlens list` when it writes to a colour terminal.
package theme

import (
	"image/color"
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

// Default is the colour theme before the terminal has told its background:
// the dark one, which most terminals use.
func Default() Styles { return Adaptive(true) }

// Adaptive picks colours that read on the terminal's background: light
// tones on a dark one, deep tones on a light one (yellow or light grey on
// white is unreadable). The UI asks the terminal for its background at
// start and switches when it answers.
func Adaptive(dark bool) Styles {
	pick := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return pick(lipgloss.Color(light), lipgloss.Color(dark)) }
	red, yellow, green, blue, grey := c("124", "203"), c("130", "221"), c("28", "114"), c("25", "75"), c("242", "245")
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
