package storage

import (
	"cmp"
	"context"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Web Vitals as the snippet stores them: vital events named LCP, INP, CLS,
// FCP or TTFB with value in milliseconds (CLS: the unitless layout-shift
// score, four decimals).
var vitalNames = []string{"LCP", "INP", "CLS", "FCP", "TTFB"}

// vitalThresholds are web.dev's: good up to the first, poor above the
// second (https://web.dev/articles/vitals, "defining thresholds").
var vitalThresholds = map[string][2]float64{
	"LCP":  {2500, 4000},
	"INP":  {200, 500},
	"CLS":  {0.1, 0.25},
	"FCP":  {1800, 3000},
	"TTFB": {800, 1800},
}

// Vital ratings.
const (
	RatingGood             = "good"
	RatingNeedsImprovement = "needs-improvement"
	RatingPoor             = "poor"
)

// RateVital rates a value of a vital by web.dev's thresholds.
func RateVital(name string, v float64) string {
	t := vitalThresholds[name]
	switch {
	case v <= t[0]:
		return RatingGood
	case v <= t[1]:
		return RatingNeedsImprovement
	}
	return RatingPoor
}

// VitalStat is one vital's 75th percentile over its samples.
type VitalStat struct {
	Name    string
	P75     float64
	Samples uint64
	Rating  string
}

// PageVitals are a page's vitals in the order LCP, INP, CLS, FCP, TTFB
// (those with samples). Samples is the largest sample count of the five.
type PageVitals struct {
	Pathname string
	Samples  uint64
	Vitals   []VitalStat
}

// Vitals are the site's vitals overall and per page.
type Vitals struct {
	Site  PageVitals // Pathname ""
	Pages []PageVitals
}

// Vitals reports p75 (quantileExact: an actual sample, the same on every
// server version) of each vital for the whole site and for the limit
// pages with the most samples (0: DefaultBreakdownLimit).
func (s *Store) Vitals(ctx context.Context, q Query, limit int) (Vitals, error) {
	if err := q.Validate(); err != nil {
		return Vitals{}, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return Vitals{}, err
	}
	if limit <= 0 {
		limit = DefaultBreakdownLimit
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	vitals := clause{sql: "type = 'vital' AND name IN ('LCP', 'INP', 'CLS', 'FCP', 'TTFB')"} // vitalNames
	var out Vitals
	pages := map[string]*PageVitals{}
	// The site's and the pages' percentiles in one round trip; UNION ALL
	// runs the two branches in parallel. perPage tells the rows apart.
	c := clause{sql: "SELECT 0 AS per_page, '' AS path, name, quantileExact(0.75)(value), count() "}
	c.addClause(q.where(fromEvents, q.From, q.To, vitals))
	c.add(" GROUP BY name UNION ALL SELECT 1 AS per_page, pathname AS path, name, quantileExact(0.75)(value), count() ")
	c.addClause(q.where(fromEvents, q.From, q.To, vitals))
	c.add(" GROUP BY pathname, name")
	err = s.scanRows(ctx, "vitals", c, func(r driver.Rows) error {
		var perPage uint8
		var path string
		var v VitalStat
		if err := r.Scan(&perPage, &path, &v.Name, &v.P75, &v.Samples); err != nil {
			return err
		}
		v.Rating = RateVital(v.Name, v.P75)
		p := &out.Site
		if perPage == 1 {
			if p = pages[path]; p == nil {
				p = &PageVitals{Pathname: path}
				pages[path] = p
			}
		}
		p.Vitals = append(p.Vitals, v)
		p.Samples = max(p.Samples, v.Samples)
		return nil
	})
	if err != nil {
		return Vitals{}, err
	}
	sortVitals(&out.Site)
	out.Pages = []PageVitals{}
	for _, p := range pages {
		sortVitals(p)
		out.Pages = append(out.Pages, *p)
	}
	slices.SortFunc(out.Pages, func(a, b PageVitals) int {
		return cmp.Or(cmp.Compare(b.Samples, a.Samples), cmp.Compare(a.Pathname, b.Pathname))
	})
	if len(out.Pages) > limit {
		out.Pages = out.Pages[:limit]
	}
	return out, nil
}

func sortVitals(p *PageVitals) {
	slices.SortFunc(p.Vitals, func(a, b VitalStat) int {
		return slices.Index(vitalNames, a.Name) - slices.Index(vitalNames, b.Name)
	})
}
