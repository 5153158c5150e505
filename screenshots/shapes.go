package screenshots

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"
)

// A shape draws one rune that Go Mono lacks, in the cell's foreground
// colour. Terminals fall back to another font for such runes; this
// renderer has one font, so it draws them itself, or the PNGs would show
// the font's empty "notdef" box where the UI shows a symbol.
type shape func(z *vector.Rasterizer, m cellMetrics)

// cellMetrics is where a shape may draw within its cell, in pixels from
// the cell's top-left corner.
type cellMetrics struct {
	w, h     float32 // the cell
	baseline float32 // the text baseline
	capTop   float32 // top of capital letters
	stroke   float32 // the pen width: the font's stem, heavier in bold
}

// shapes are the runes drawn by hand, because the UI uses them and Go Mono
// lacks them. TestUISymbolsHaveGlyphs keeps this in step with the UI.
var shapes = map[rune]shape{
	'✓': checkMark, // the fleet status bar's "synced" mark (ui/fleet.go)
}

// replacement is drawn, from the font, for a rune that Go Mono lacks and
// that has no shape: U+FFFD says "a character is here that cannot be
// shown", which a reader of a screenshot understands, where the font's
// notdef box looks like a blank or a border. It is a last resort; the
// guard test fails first for any symbol the UI's source uses.
const replacement = '\uFFFD'

// checkMark is a tick from the middle left down to the baseline and up to
// the capital height on the right, like the ✓ of fonts that have one.
func checkMark(z *vector.Rasterizer, m cellMetrics) {
	top, bottom := m.capTop, m.baseline
	height := bottom - top
	left, right := 0.06*m.w, 0.92*m.w
	elbowX, elbowY := 0.36*m.w, bottom-0.06*height
	strokeSegment(z, left, top+0.62*height, elbowX, elbowY, m.stroke)
	strokeSegment(z, elbowX, elbowY, right, top+0.08*height, m.stroke)
}

// strokeSegment adds a line from (x0,y0) to (x1,y1) of width w as a
// quadrilateral, extended by half the width at both ends so that two
// segments meeting at a point join without a notch. Every quadrilateral
// winds the same way round (relative to its own direction), so where two
// overlap the rasterizer's coverage adds up instead of cancelling.
func strokeSegment(z *vector.Rasterizer, x0, y0, x1, y1, w float32) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	ux, uy := dx/l*w/2, dy/l*w/2 // half a width along the segment
	nx, ny := -uy, ux            // and across it
	x0, y0, x1, y1 = x0-ux, y0-uy, x1+ux, y1+uy
	z.MoveTo(x0+nx, y0+ny)
	z.LineTo(x1+nx, y1+ny)
	z.LineTo(x1-nx, y1-ny)
	z.LineTo(x0-nx, y0-ny)
	z.ClosePath()
}

// drawShape rasterizes s into cell of dst in colour fg.
func drawShape(dst *image.RGBA, cell image.Rectangle, s shape, m cellMetrics, fg color.Color) {
	z := vector.NewRasterizer(cell.Dx(), cell.Dy())
	s(z, m)
	z.Draw(dst, cell, image.NewUniform(fg), image.Point{})
}
