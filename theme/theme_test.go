package theme

import (
	"image/color"
	"testing"

	"charm.land/lipgloss/v2"
)

// TestAdaptiveColoursDifferByBackground: each coloured style has a tone for
// dark and one for light backgrounds; Plain has none.
func TestAdaptiveColoursDifferByBackground(t *testing.T) {
	dark, light := Adaptive(true), Adaptive(false)
	for _, tc := range []struct {
		name        string
		dark, light color.Color
	}{
		{"Error", dark.Error.GetForeground(), light.Error.GetForeground()},
		{"Warning", dark.Warning.GetForeground(), light.Warning.GetForeground()},
		{"OK", dark.OK.GetForeground(), light.OK.GetForeground()},
		{"Muted", dark.Muted.GetForeground(), light.Muted.GetForeground()},
		{"Title", dark.Title.GetForeground(), light.Title.GetForeground()},
	} {
		if tc.dark == tc.light {
			t.Errorf("%s has the same colour on dark and light backgrounds", tc.name)
		}
	}
	if d := Default(); d.Error.GetForeground() != dark.Error.GetForeground() || !d.Colour {
		t.Error("Default is not the dark-background theme")
	}
	p := Plain()
	if p.Colour {
		t.Error("Plain says it has colours")
	}
	for _, c := range []color.Color{p.Error.GetForeground(), p.OK.GetForeground(), p.Muted.GetForeground(), p.Title.GetForeground()} {
		if _, none := c.(lipgloss.NoColor); !none {
			t.Errorf("Plain has a colour: %v", c)
		}
	}
}

func TestForTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	if !ForTerminal(true).Colour || ForTerminal(false).Colour {
		t.Error("colour on a terminal only")
	}
	t.Setenv("NO_COLOR", "1")
	if ForTerminal(true).Colour {
		t.Error("NO_COLOR still has colour")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if ForTerminal(true).Colour {
		t.Error("TERM=dumb still has colour")
	}
}
