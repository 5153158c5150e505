package ui

import (
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The list redraws every row each second (ages and countdowns move), and
// measuring cells grapheme by grapheme was most of that frame's cost (the
// idle CPU at 50,000 pods, kube/BENCHMARKS.md). Nearly every cell is plain
// ASCII, whose width is its length: these take that fast path and fall
// back to lipgloss and ansi for anything else.

// plainASCII: printable ASCII only, no escape sequence or control byte.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// textWidth is lipgloss.Width, fast for plain ASCII.
func textWidth(s string) int {
	if plainASCII(s) {
		return len(s)
	}
	return lipgloss.Width(s)
}

// truncate is ansi.Truncate, fast for plain ASCII that fits.
func truncate(s string, w int, tail string) string {
	if len(s) <= w && plainASCII(s) {
		return s
	}
	return ansi.Truncate(s, w, tail)
}
