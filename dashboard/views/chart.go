package views

import (
	"strconv"
	"strings"
)

// The chart's drawing box, in SVG user units; the SVG scales to its width.
const (
	chartW, chartH                           = 720, 240
	padLeft, padRight, padTop, padBottom int = 56, 12, 12, 28
	plotW                                    = chartW - padLeft - padRight
	plotH                                    = chartH - padTop - padBottom
)

// chartGeometry is a Chart laid out for drawing.
type chartGeometry struct {
	LineA, LineB string // polyline points
	Points       []pointGeometry
	Ticks        []tick // y axis
	XLabels      []tick // x axis: first, middle, last
	ColW         string // width of each hover column
}

type pointGeometry struct {
	X, YA, YB, ColX string
	Tip             string
}

type tick struct {
	Pos, Label string
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v uint64) uint64 {
	if v <= 1 {
		return 1
	}
	for p := uint64(1); ; p *= 10 {
		for _, m := range []uint64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

func (c Chart) layout() chartGeometry {
	var g chartGeometry
	n := len(c.Points)
	if n == 0 {
		return g
	}
	var top uint64
	for _, p := range c.Points {
		top = max(top, p.A, p.B)
	}
	ymax := niceMax(top)
	step := float64(plotW)
	if n > 1 {
		step = float64(plotW) / float64(n-1)
	}
	x := func(i int) float64 {
		if n == 1 {
			return float64(padLeft) + float64(plotW)/2
		}
		return float64(padLeft) + float64(i)*step
	}
	y := func(v uint64) float64 { return float64(padTop) + float64(plotH)*(1-float64(v)/float64(ymax)) }
	var a, b strings.Builder
	for i, p := range c.Points {
		xi := x(i)
		a.WriteString(fmtF(xi) + "," + fmtF(y(p.A)) + " ")
		b.WriteString(fmtF(xi) + "," + fmtF(y(p.B)) + " ")
		g.Points = append(g.Points, pointGeometry{
			X: fmtF(xi), YA: fmtF(y(p.A)), YB: fmtF(y(p.B)), ColX: fmtF(xi - step/2),
			Tip: p.Label + ": " + strconv.FormatUint(p.A, 10) + " " + strings.ToLower(c.ALabel) + ", " + strconv.FormatUint(p.B, 10) + " " + strings.ToLower(c.BLabel),
		})
	}
	g.LineA, g.LineB = strings.TrimSpace(a.String()), strings.TrimSpace(b.String())
	g.ColW = fmtF(step)
	for _, v := range []uint64{0, ymax / 2, ymax} {
		g.Ticks = append(g.Ticks, tick{Pos: fmtF(y(v)), Label: strconv.FormatUint(v, 10)})
	}
	for _, i := range uniqueInts(0, n/2, n-1) {
		g.XLabels = append(g.XLabels, tick{Pos: fmtF(x(i)), Label: c.Points[i].Label})
	}
	return g
}

func uniqueInts(v ...int) []int {
	var out []int
	for _, x := range v {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// barWidth is the width, in the quality bar's 100 units, of a percentage
// such as "12.5%".
func barWidth(percent string) string {
	f, err := strconv.ParseFloat(strings.TrimSuffix(percent, "%"), 64)
	if err != nil || f < 0 {
		return "0"
	}
	return fmtF(min(f, 100))
}
