package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, text, line string
	}{
		{"plain", "hello world", "hello world", "hello world"},
		{"CSI clear screen and cursor moves", "a\x1b[2J\x1b[H\x1b[10;20Hb\x1b[31mred\x1b[0m", "abred", "abred"},
		{"OSC title with BEL", "x\x1b]0;pwned\x07y", "xy", "xy"},
		{"OSC 52 clipboard write with ST", "x\x1b]52;c;cm0gLXJmIC8=\x1b\\y", "xy", "xy"},
		{"OSC 8 hyperlink", "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click", "click"},
		{"DCS", "a\x1bP1$r0m\x1b\\b", "ab", "ab"},
		{"C1 CSI byte", "a\u009b2Jb", "ab", "ab"},
		{"C0 controls", "a\x00b\x08c\rd\x07e", "abcde", "abcde"},
		{"bidi override", "user\u202Egnp.exe", "usergnp.exe", "usergnp.exe"},
		{"invalid UTF-8", "a\xff\xfeb", "a\uFFFD\uFFFDb", "a\uFFFD\uFFFDb"},
		{"newlines and tabs", "a\tb\nc", "a\tb\nc", "a b c"},
		{"unterminated OSC swallows the rest of its line", "ok\x1b]0;never ends", "ok", "ok"},
		{"unterminated OSC ends at the newline", "a\x1b]0;title\nnext line", "a\nnext line", "a next line"},
		{"unterminated 8-bit OSC ends at the newline", "a\u009d0;title\nnext", "a\nnext", "a next"},
		{"CSI cut by a newline keeps it", "a\x1b[12\nb", "a\nb", "a b"},
		{"CSI cut by another ESC", "a\x1b[1\x1b]2;t\x07b", "ab", "ab"},
		{"lone ESC at the end", "ok\x1b", "ok", "ok"},
		{"wide characters stay", "日本語 ✓", "日本語 ✓", "日本語 ✓"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.text {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
			}
			if got := Line(tc.in); got != tc.line {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("日本語テキスト", 4); got != "日本語…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate = %q", got)
	}
}

// FuzzSanitize: whatever comes in, nothing that can drive a terminal comes
// out, and the result is valid UTF-8.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b[2J", "\x1b]52;c;AAAA\x07", "\x1bP+q\x1b\\", "\u009b31m", "a\u202eb", "\xff", strings.Repeat("\x1b[", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Text(s), Line(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q", s)
			}
			for _, r := range out {
				if r == 0x1b || (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidi(r) {
					t.Fatalf("control %U survived in %q (from %q)", r, out, s)
				}
			}
		}
		if strings.ContainsAny(Line(s), "\n\t") {
			t.Fatalf("Line kept a newline or tab: %q", s)
		}
	})
}
