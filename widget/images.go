package widget

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The widget's images are drawn here, with the standard library only, at the
// sizes Kommo asks for, and committed under src/images. TestImages fails when
// the committed files differ from what Images draws; run
// `go test ./widget -run TestImages -update` after changing the drawing.

// ImageSize is the width and height of one of the widget's images, in pixels.
type ImageSize struct{ W, H int }

// LogoSizes are the logos Kommo requires in images/, by file name.
var LogoSizes = map[string]ImageSize{
	"logo_main.png":   {400, 272},
	"logo_medium.png": {240, 84},
	"logo.png":        {130, 100},
	"logo_small.png":  {108, 108},
	"logo_min.png":    {84, 84},
}

// TourSize is the size of the tour (gallery) image.
var TourSize = ImageSize{1188, 616}

// Images returns the PNG encoding of every image the widget ships, by file
// name under images/.
func Images() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, sz := range LogoSizes {
		b, err := encodePNG(drawLogo(sz.W, sz.H))
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	b, err := encodePNG(drawTour(TourSize.W, TourSize.H))
	if err != nil {
		return nil, err
	}
	out["tour_1.png"] = b
	return out, nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Brand colours.
var (
	brandTop    = color.NRGBA{0x1f, 0x7a, 0xe0, 0xff}
	brandBottom = color.NRGBA{0x12, 0x4e, 0xa8, 0xff}
	white       = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	paleCard    = color.NRGBA{0xff, 0xff, 0xff, 0x38}
)

// shape reports whether a point (in the shape's own units) is inside it.
type shape func(x, y float64) bool

// canvas is an image with supersampled shape filling.
type canvas struct {
	img *image.NRGBA
}

func newCanvas(w, h int) *canvas {
	return &canvas{img: image.NewNRGBA(image.Rect(0, 0, w, h))}
}

// gradient fills the canvas with a vertical gradient clipped to a rounded
// rectangle of corner radius r (pixels); outside it stays transparent.
func (c *canvas) gradient(top, bottom color.NRGBA, r float64) {
	b := c.img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	inside := func(x, y float64) bool { return inRoundRect(x, y, 0, 0, w, h, r) }
	for py := 0; py < b.Dy(); py++ {
		t := float64(py) / math.Max(1, h-1)
		col := color.NRGBA{
			R: lerp8(top.R, bottom.R, t), G: lerp8(top.G, bottom.G, t), B: lerp8(top.B, bottom.B, t), A: 0xff,
		}
		for px := 0; px < b.Dx(); px++ {
			cov := coverage(inside, float64(px), float64(py))
			if cov > 0 {
				c.blend(px, py, col, cov)
			}
		}
	}
}

// fill paints shape s (in pixel coordinates) with col.
func (c *canvas) fill(s shape, col color.NRGBA, x0, y0, x1, y1 int) {
	b := c.img.Bounds()
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, b.Dx()), min(y1, b.Dy())
	for py := y0; py < y1; py++ {
		for px := x0; px < x1; px++ {
			if cov := coverage(s, float64(px), float64(py)); cov > 0 {
				c.blend(px, py, col, cov)
			}
		}
	}
}

// coverage samples a pixel 4×4 times where its corners and centre disagree
// (an edge), once otherwise.
func coverage(s shape, px, py float64) float64 {
	c := s(px+0.5, py+0.5)
	if c == s(px+0.01, py+0.01) && c == s(px+0.99, py+0.01) && c == s(px+0.01, py+0.99) && c == s(px+0.99, py+0.99) {
		if c {
			return 1
		}
		return 0
	}
	n := 0
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if s(px+(float64(i)+0.5)/4, py+(float64(j)+0.5)/4) {
				n++
			}
		}
	}
	return float64(n) / 16
}

// blend draws col with coverage cov over the pixel (source over).
func (c *canvas) blend(px, py int, col color.NRGBA, cov float64) {
	dst := c.img.NRGBAAt(px, py)
	sa := float64(col.A) / 255 * cov
	da := float64(dst.A) / 255
	oa := sa + da*(1-sa)
	if oa == 0 {
		return
	}
	mix := func(s, d uint8) uint8 {
		v := (float64(s)*sa + float64(d)*da*(1-sa)) / oa
		return uint8(math.Round(math.Min(255, math.Max(0, v))))
	}
	c.img.SetNRGBA(px, py, color.NRGBA{mix(col.R, dst.R), mix(col.G, dst.G), mix(col.B, dst.B), uint8(math.Round(oa * 255))})
}

func lerp8(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}

func inRoundRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

// handset returns the callbridge mark centred at (cx, cy) with size s
// (pixels): a telephone handset (a thick arc with rounded ear and mouth
// pieces) and two signal waves.
func handset(cx, cy, s float64) shape {
	ring := func(x, y, r0, r1, a0, a1 float64) bool {
		dx, dy := x-cx, y-cy
		d := math.Hypot(dx, dy)
		if d < r0 || d > r1 {
			return false
		}
		a := math.Atan2(dy, dx) * 180 / math.Pi
		if a < 0 {
			a += 360
		}
		return a >= a0 && a <= a1
	}
	blob := func(x, y, bx, by, r float64) bool { return (x-bx)*(x-bx)+(y-by)*(y-by) <= r*r }
	at := func(angle, radius float64) (float64, float64) {
		rad := angle * math.Pi / 180
		return cx + radius*math.Cos(rad), cy + radius*math.Sin(rad)
	}
	// The handset: an arc around the lower left, ends at 100° and 260°.
	r0, r1 := 0.18*s, 0.30*s
	ex, ey := at(100, 0.25*s)
	mx, my := at(260, 0.25*s)
	return func(x, y float64) bool {
		if ring(x, y, r0, r1, 100, 260) {
			return true
		}
		if blob(x, y, ex, ey, 0.11*s) || blob(x, y, mx, my, 0.11*s) {
			return true
		}
		// Two waves toward the upper right.
		if ring(x, y, 0.36*s, 0.42*s, 290, 340) || ring(x, y, 0.48*s, 0.54*s, 285, 345) {
			return true
		}
		return false
	}
}

// drawLogo draws the logo at w×h: the mark on the brand gradient, placed to
// the left on wide formats.
func drawLogo(w, h int) image.Image {
	c := newCanvas(w, h)
	fw, fh := float64(w), float64(h)
	c.gradient(brandTop, brandBottom, math.Min(fw, fh)*0.16)
	s := math.Min(fw, fh) * 0.78
	cx, cy := fw/2, fh/2
	if fw > 1.6*fh {
		cx = fh * 0.55
	}
	c.fill(handset(cx, cy, s), white, 0, 0, w, h)
	if fw > 1.6*fh {
		// Two bars suggest the name on wide logos.
		x0, x1 := fh*1.15, fw-fh*0.35
		bar := func(y0, y1, right float64) shape {
			return func(x, y float64) bool { return inRoundRect(x, y, x0, y0, right, y1, (y1-y0)/2) }
		}
		c.fill(bar(fh*0.36, fh*0.50, x1), white, 0, 0, w, h)
		c.fill(bar(fh*0.58, fh*0.66, x0+(x1-x0)*0.6), paleCard, 0, 0, w, h)
	}
	return c.img
}

// drawTour draws the tour image: the mark and a sketch of the incoming-call
// card and the call-result window.
func drawTour(w, h int) image.Image {
	c := newCanvas(w, h)
	fw, fh := float64(w), float64(h)
	c.gradient(brandTop, brandBottom, 24)
	c.fill(handset(fh*0.45, fh*0.5, fh*0.55), white, 0, 0, w, h)
	card := func(x0, y0, x1, y1 float64) shape {
		return func(x, y float64) bool { return inRoundRect(x, y, x0, y0, x1, y1, 14) }
	}
	c.fill(card(fw*0.48, fh*0.14, fw*0.92, fh*0.40), white, 0, 0, w, h)
	c.fill(card(fw*0.48, fh*0.48, fw*0.92, fh*0.86), paleCard, 0, 0, w, h)
	line := func(x0, y0, x1 float64, col color.NRGBA) {
		c.fill(card(x0, y0, x1, y0+14), col, 0, 0, w, h)
	}
	blue := color.NRGBA{0x1f, 0x7a, 0xe0, 0xff}
	grey := color.NRGBA{0xc9, 0xd6, 0xe6, 0xff}
	line(fw*0.52, fh*0.20, fw*0.76, blue)
	line(fw*0.52, fh*0.28, fw*0.86, grey)
	for i := 0; i < 4; i++ {
		y := fh*0.55 + float64(i)*fh*0.07
		line(fw*0.52, y, fw*(0.70+0.04*float64(i%2)), white)
	}
	return c.img
}
