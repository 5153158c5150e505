// Package screenshots renders an emulated terminal screen (hinshun/vt10x)
// to PNG with the Go Mono font, drawing the few symbols the UI uses that
// the font lacks (shapes.go): the pictures of every screen in this
// folder, regenerated from the demo cluster by `make screenshots`
// (hack/shoot drives the real binary in a pty).
package screenshots

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"

	"github.com/hinshun/vt10x"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Glyph modes as vt10x stores them (its constants are unexported).
const (
	modeReverse   = 1 << 0
	modeUnderline = 1 << 1
	modeBold      = 1 << 2
)

// FontSize is the rendering size in points at 72 DPI.
const FontSize = 14

// Default colours of the emulated terminal: a dark theme.
var (
	DefaultFG = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
	DefaultBG = color.RGBA{0x1c, 0x1c, 0x1c, 0xff}
)

// ansi16 is the base palette (xterm's).
var ansi16 = [16]color.RGBA{
	{0x00, 0x00, 0x00, 0xff}, {0xcd, 0x00, 0x00, 0xff}, {0x00, 0xcd, 0x00, 0xff}, {0xcd, 0xcd, 0x00, 0xff},
	{0x00, 0x00, 0xee, 0xff}, {0xcd, 0x00, 0xcd, 0xff}, {0x00, 0xcd, 0xcd, 0xff}, {0xe5, 0xe5, 0xe5, 0xff},
	{0x7f, 0x7f, 0x7f, 0xff}, {0xff, 0x55, 0x55, 0xff}, {0x55, 0xff, 0x55, 0xff}, {0xff, 0xff, 0x55, 0xff},
	{0x5c, 0x8c, 0xff, 0xff}, {0xff, 0x55, 0xff, 0xff}, {0x55, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff},
}

// RGB maps a vt10x colour (16 ANSI, the 256-colour cube and greys, 24-bit
// true colour, or the defaults) to RGBA.
func RGB(c vt10x.Color, fg bool) color.RGBA {
	switch {
	case c == vt10x.DefaultFG:
		return DefaultFG
	case c == vt10x.DefaultBG:
		return DefaultBG
	case c < 16:
		return ansi16[c]
	case c < 232:
		i := int(c) - 16
		steps := []uint8{0, 0x5f, 0x87, 0xaf, 0xd7, 0xff}
		return color.RGBA{steps[i/36], steps[i/6%6], steps[i%6], 0xff}
	case c < 256:
		g := uint8(8 + (int(c)-232)*10)
		return color.RGBA{g, g, g, 0xff}
	case c < 1<<24:
		return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 0xff}
	}
	if fg {
		return DefaultFG
	}
	return DefaultBG
}

// faces are the regular and bold Go Mono faces.
type faces struct {
	regular, bold font.Face
	cellW, cellH  int
	ascent        int
	capHeight     int
}

func loadFaces() (faces, error) {
	var f faces
	for i, ttf := range [][]byte{gomono.TTF, gomonobold.TTF} {
		parsed, err := opentype.Parse(ttf)
		if err != nil {
			return f, err
		}
		face, err := opentype.NewFace(parsed, &opentype.FaceOptions{Size: FontSize, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return f, err
		}
		if i == 0 {
			f.regular = face
		} else {
			f.bold = face
		}
	}
	adv, _ := f.regular.GlyphAdvance('M')
	m := f.regular.Metrics()
	f.cellW = adv.Ceil()
	f.cellH = (m.Ascent + m.Descent).Ceil() + 2
	f.ascent = m.Ascent.Ceil() + 1
	f.capHeight = m.CapHeight.Round()
	if f.capHeight <= 0 { // a font without an OS/2 cap height
		f.capHeight = f.ascent * 7 / 10
	}
	return f, nil
}

// Render draws the terminal's cells: background, glyph (bold in the bold
// face), underline. Reverse video is already applied by vt10x.
func Render(t vt10x.View) (*image.RGBA, error) {
	f, err := loadFaces()
	if err != nil {
		return nil, err
	}
	t.Lock()
	defer t.Unlock()
	cols, rows := t.Size()
	img := image.NewRGBA(image.Rect(0, 0, cols*f.cellW, rows*f.cellH))
	draw.Draw(img, img.Bounds(), image.NewUniform(DefaultBG), image.Point{}, draw.Src)
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			g := t.Cell(x, y)
			fg, bg := RGB(g.FG, true), RGB(g.BG, false)
			cell := image.Rect(x*f.cellW, y*f.cellH, (x+1)*f.cellW, (y+1)*f.cellH)
			draw.Draw(img, cell, image.NewUniform(bg), image.Point{}, draw.Src)
			if g.Char != 0 && g.Char != ' ' {
				f.drawRune(img, cell, g.Char, g.Mode&modeBold != 0, fg)
			}
			if g.Mode&modeUnderline != 0 {
				line := image.Rect(cell.Min.X, cell.Max.Y-2, cell.Max.X, cell.Max.Y-1)
				draw.Draw(img, line, image.NewUniform(fg), image.Point{}, draw.Src)
			}
		}
	}
	return img, nil
}

// drawRune draws r in cell: from the font if it has the rune, else its
// hand-drawn shape (shapes.go), else the replacement character.
func (f faces) drawRune(img *image.RGBA, cell image.Rectangle, r rune, bold bool, fg color.RGBA) {
	face := f.regular
	if bold {
		face = f.bold
	}
	if _, ok := face.GlyphAdvance(r); !ok {
		if s, drawn := shapes[r]; drawn {
			drawShape(img, cell, s, f.metrics(bold), fg)
			return
		}
		r = replacement
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(fg), Face: face,
		Dot: fixed.P(cell.Min.X, cell.Min.Y+f.ascent)}
	d.DrawString(string(r))
}

// metrics are the cell's measures for a shape. The pen is about as wide
// as Go Mono's stems at this size (0.15 of the cell's width in regular,
// 0.25 in bold), so a shape sits among letters without standing out.
func (f faces) metrics(bold bool) cellMetrics {
	pen := 0.15 * float32(f.cellW)
	if bold {
		pen = 0.25 * float32(f.cellW)
	}
	return cellMetrics{w: float32(f.cellW), h: float32(f.cellH),
		baseline: float32(f.ascent), capTop: float32(f.ascent - f.capHeight), stroke: pen}
}

// WritePNG renders the terminal to w as PNG.
func WritePNG(w io.Writer, t vt10x.View) error {
	img, err := Render(t)
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}
