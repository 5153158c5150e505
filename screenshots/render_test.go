package screenshots

import (
	"bytes"
	"go/scanner"
	"go/token"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hinshun/vt10x"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
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

// cellPixels renders s on a one-row screen and returns the first cell.
func cellPixels(t *testing.T, s string) *image.RGBA {
	t.Helper()
	term := vt10x.New(vt10x.WithSize(4, 1))
	if _, err := term.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	img, err := Render(term)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := loadFaces()
	return img.SubImage(image.Rect(0, 0, f.cellW, f.cellH)).(*image.RGBA)
}

// notdefCell is what the renderer drew before shapes.go for a rune Go Mono
// lacks: the font's glyph 0, an empty box.
func notdefCell(t *testing.T, r rune) *image.RGBA {
	t.Helper()
	f, _ := loadFaces()
	if _, ok := f.regular.GlyphAdvance(r); ok {
		t.Fatalf("Go Mono has %q; the test needs a rune it lacks", r)
	}
	img := image.NewRGBA(image.Rect(0, 0, f.cellW, f.cellH))
	draw.Draw(img, img.Bounds(), image.NewUniform(DefaultBG), image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(DefaultFG), Face: f.regular, Dot: fixed.P(0, f.ascent)}
	d.DrawString(string(r))
	return img
}

// inked counts the pixels of img that are not the default background.
func inked(img *image.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) != DefaultBG {
				n++
			}
		}
	}
	return n
}

// samePixels says whether two cells are drawn alike.
func samePixels(a, b *image.RGBA) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			if a.RGBAAt(a.Bounds().Min.X+x, a.Bounds().Min.Y+y) != b.RGBAAt(b.Bounds().Min.X+x, b.Bounds().Min.Y+y) {
				return false
			}
		}
	}
	return true
}

// TestMissingGlyphs: runes Go Mono lacks draw something deliberate, never
// the font's notdef box. The fleet status bar's ✓ is a drawn check mark
// in the cell's colour (plain, bold and coloured), not the last-resort
// replacement character; any other missing rune is that character.
func TestMissingGlyphs(t *testing.T) {
	tests := []struct {
		name  string
		sgr   string // the attributes the cell is written with
		r     rune
		shape bool        // drawn by shapes.go, else as U+FFFD
		tint  *color.RGBA // a colour the cell must show, if any
	}{
		{name: "check mark", r: '✓', shape: true},
		{name: "bold check mark", sgr: "\x1b[1m", r: '✓', shape: true},
		{name: "check mark in its colour", sgr: "\x1b[32m", r: '✓', shape: true, tint: &ansi16[2]},
		{name: "unshaped rune", r: '╭'},
		{name: "bold unshaped rune", sgr: "\x1b[1m", r: '╭'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cellPixels(t, tt.sgr+string(tt.r))
			if inked(c) == 0 {
				t.Fatal("nothing drawn in the cell")
			}
			if samePixels(c, notdefCell(t, tt.r)) {
				t.Error("drawn as the font's notdef box")
			}
			if asReplacement := samePixels(c, cellPixels(t, tt.sgr+"\uFFFD")); asReplacement == tt.shape {
				t.Errorf("drawn as U+FFFD: %v, want %v", asReplacement, !tt.shape)
			}
			if tt.tint != nil && !hasTint(c, *tt.tint) {
				t.Errorf("no pixel tinted with the cell's colour %v", *tt.tint)
			}
		})
	}
}

// hasTint says whether some pixel of img is c blended over the default
// background: in each channel nearer to c than to the background, or, in
// a channel where c and the background are alike, near both. A thin
// diagonal stroke may cover no pixel fully, so exact c is too strict.
func hasTint(img *image.RGBA, c color.RGBA) bool {
	near := func(p, want, bg uint8) bool {
		d := func(a, b uint8) int { return max(int(a), int(b)) - min(int(a), int(b)) }
		if d(want, bg) < 0x20 {
			return d(p, bg) < 0x40
		}
		return d(p, want) < d(p, bg)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if near(p.R, c.R, DefaultBG.R) && near(p.G, c.G, DefaultBG.G) && near(p.B, c.B, DefaultBG.B) {
				return true
			}
		}
	}
	return false
}

// uiSources are the packages whose strings reach the screen, relative to
// this package's directory.
var uiSources = []string{"../ui", "../theme", "../report", "../diagnose"}

// TestUISymbolsHaveGlyphs is the guard for the screenshots: every
// non-ASCII rune in a string or rune literal of the UI's source is in Go
// Mono (regular and bold) or has a shape in shapes.go, so a new symbol in
// the UI cannot silently render as a box in the PNGs. When it fails, add
// a shape for the rune.
func TestUISymbolsHaveGlyphs(t *testing.T) {
	var fonts []*sfnt.Font
	for _, ttf := range [][]byte{gomono.TTF, gomonobold.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		fonts = append(fonts, f)
	}
	var buf sfnt.Buffer
	inFont := func(r rune) bool {
		for _, f := range fonts {
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				return false
			}
		}
		return true
	}
	for _, dir := range uiSources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		scanned := 0
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			scanned++
			for _, lit := range nonASCIILiterals(t, path) {
				if !inFont(lit.r) && shapes[lit.r] == nil {
					t.Errorf("%s: %q (%U) is not in Go Mono and has no shape in shapes.go", lit.pos, lit.r, lit.r)
				}
			}
		}
		if scanned == 0 {
			t.Errorf("no Go source in %s: has the package moved?", dir)
		}
	}
}

// literalRune is one non-ASCII rune of a literal and where it is.
type literalRune struct {
	pos token.Position
	r   rune
}

// nonASCIILiterals lists the non-ASCII runes in the string and rune
// literals of one Go file (comments are not shown on screen).
func nonASCIILiterals(t *testing.T, path string) []literalRune {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(path, -1, len(src)), src, func(pos token.Position, msg string) {
		t.Errorf("%s: %s", pos, msg)
	}, 0)
	var out []literalRune
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok != token.STRING && tok != token.CHAR {
			continue
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			t.Errorf("%s: %v", fset.Position(pos), err)
			continue
		}
		for _, r := range v {
			if r > 0x7f {
				out = append(out, literalRune{fset.Position(pos), r})
			}
		}
	}
}
