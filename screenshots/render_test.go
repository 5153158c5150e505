package screenshots

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/hinshun/vt10x"
)

// TestRenderRecordedScreen renders a small recorded screen (no cluster):
// the PNG has the grid's size, the red text is red, the reverse-video cell
// has a light background and the underline is drawn.
func TestRenderRecordedScreen(t *testing.T) {
	term := vt10x.New(vt10x.WithSize(20, 3))
	// What the list prints: a red state, a reverse-video selected row, an
	// underlined fuzzy match.
	if _, err := term.Write([]byte("\x1b[91mCrashLoop\x1b[0m\r\n\x1b[7mselected\x1b[0m\r\n\x1b[4mm\x1b[0mixup")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, term); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := loadFaces()
	if b := img.Bounds(); b.Dx() != 20*f.cellW || b.Dy() != 3*f.cellH {
		t.Fatalf("size %v, want %dx%d", b, 20*f.cellW, 3*f.cellH)
	}
	red := false
	for x := 0; x < 9*f.cellW; x++ {
		for y := 0; y < f.cellH; y++ {
			r, g, b, _ := img.At(x, y).RGBA()
			red = red || (r>>8 > 0xc0 && g>>8 < 0x80 && b>>8 < 0x80)
		}
	}
	if !red {
		t.Error("no red pixel in the red text")
	}
	// Top-left pixel of the reverse-video row: its background is the
	// default foreground.
	if r, _, _, _ := img.At(1, f.cellH+1).RGBA(); uint8(r>>8) != DefaultFG.R {
		t.Errorf("reverse-video background %x, want %x", r>>8, DefaultFG.R)
	}
	if r, _, _, _ := img.At(2, 3*f.cellH-2).RGBA(); uint8(r>>8) != DefaultFG.R {
		t.Errorf("no underline under the match (pixel %x)", r>>8)
	}
	if r, _, _, _ := img.At(f.cellW*19+2, f.cellH*2+2).RGBA(); uint8(r>>8) != DefaultBG.R {
		t.Errorf("empty cell is not the background (pixel %x)", r>>8)
	}
}
