// Package sanitize makes attacker-controlled text (container logs, event
// messages, object names, labels, annotations) safe to put on a terminal or
// into a Markdown report: every string from the cluster passes through it
// before it is rendered.
//
// It removes terminal control sequences (CSI, OSC, DCS, SOS, PM, APC and
// lone ESC), C0 controls except tab and newline, C1 controls, DEL, and
// Unicode bidi overrides and isolates (which can make text read backwards);
// it replaces invalid UTF-8 with U+FFFD.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

// Text sanitizes multi-line text: newlines stay, tabs stay.
func Text(s string) string { return clean(s, true) }

// Line sanitizes one line: newlines and tabs become spaces.
func Line(s string) string { return clean(s, false) }

// Truncate cuts s to at most max runes, marking the cut with "…".
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func isBidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

func clean(s string, multiline bool) string {
	if isPlain(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b { // ESC: skip the whole sequence
			i = skipEscape(s, i)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n':
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			if multiline {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20 || r == 0x7f:
			// other C0 controls and DEL: dropped (\r, \b and BEL rewrite or beep)
		case r == 0x9b: // 8-bit CSI: drop its parameters too
			i = skipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // 8-bit DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
			continue
		case r >= 0x80 && r <= 0x9f:
			// other C1 controls
		case isBidi(r):
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain is the fast path: printable ASCII (plus tab and newline in
// multi-line text) needs no work.
func isPlain(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || (c < 0x20 && !(multiline && (c == '\t' || c == '\n'))) {
			return false
		}
	}
	return true
}

// skipEscape returns the index just after the escape sequence at s[i].
func skipEscape(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[': // CSI
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC
		return skipString(s, i+1)
	default: // two-byte sequences (ESC c, ESC 7, ...), and ESC plus intermediates
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) {
			i++
		}
		return i
	}
}

// skipCSI skips a CSI sequence's parameters, intermediates and final byte
// (0x40-0x7e), starting just after the introducer.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x7e {
			// Malformed: end before the foreign byte, which is then
			// handled on its own (a newline stays a newline).
			return i - 1
		}
	}
	return i
}

// skipString skips a control string (OSC, DCS, ...) up to and including its
// terminator: BEL, ESC \ or the 8-bit ST (U+009C). An unterminated string
// ends at the end of its line: a terminal would swallow everything after
// it, and in a log that would hide the lines an attacker wants unseen.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == '\n':
			return i
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
		i++
	}
	return i
}
