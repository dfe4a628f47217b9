package storage

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

// domChecked is the dom_check row every checked page load has: the
// denominator of the findings.
const domChecked = "checked"

// Finding is how many checked page loads had one DOM-check problem
// (missing_title, h1_count, img_no_alt, ...: see collector/ingest.go).
type Finding struct {
	Name  string
	Count uint64  // page loads with the problem
	Share float64 // Count / checked page loads
}

// PageFindings are one page's DOM-check problems, most common first.
type PageFindings struct {
	Pathname string
	Checked  uint64 // page loads checked
	Findings []Finding
}

// DOMFindings are the problems found on the site's pages: overall (Site,
// Pathname "") and the limit pages with the most problem reports (0:
// DefaultBreakdownLimit). Pages without problems are left out of Pages.
type DOMFindings struct {
	Site  PageFindings
	Pages []PageFindings
}

// DOMFindings reports which pages miss what.
func (s *Store) DOMFindings(ctx context.Context, q Query, limit int) (DOMFindings, error) {
	if err := q.Validate(); err != nil {
		return DOMFindings{}, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return DOMFindings{}, err
	}
	if limit <= 0 {
		limit = DefaultBreakdownLimit
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	c := clause{sql: "SELECT pathname, name, count() "}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{sql: "type = 'dom_check'"}))
	c.add(" GROUP BY pathname, name")
	pages := map[string]*PageFindings{}
	site := map[string]uint64{}
	err = s.scanRows(ctx, "dom findings", c, func(r driver.Rows) error {
		var path, name string
		var n uint64
		if err := r.Scan(&path, &name, &n); err != nil {
			return err
		}
		p := pages[path]
		if p == nil {
			p = &PageFindings{Pathname: path}
			pages[path] = p
		}
		if name == domChecked {
			p.Checked = n
		} else {
			p.Findings = append(p.Findings, Finding{Name: name, Count: n})
		}
		site[name] += n
		return nil
	})
	if err != nil {
		return DOMFindings{}, err
	}
	out := DOMFindings{Site: PageFindings{Checked: site[domChecked]}, Pages: []PageFindings{}}
	for name, n := range site {
		if name != domChecked {
			out.Site.Findings = append(out.Site.Findings, Finding{Name: name, Count: n})
		}
	}
	finish(&out.Site)
	problems := func(p PageFindings) (n uint64) {
		for _, f := range p.Findings {
			n += f.Count
		}
		return n
	}
	for _, p := range pages {
		if len(p.Findings) > 0 {
			finish(p)
			out.Pages = append(out.Pages, *p)
		}
	}
	slices.SortFunc(out.Pages, func(a, b PageFindings) int {
		return cmp.Or(cmp.Compare(problems(b), problems(a)), cmp.Compare(a.Pathname, b.Pathname))
	})
	if len(out.Pages) > limit {
		out.Pages = out.Pages[:limit]
	}
	return out, nil
}

// finish computes shares and sorts the findings, most common first.
func finish(p *PageFindings) {
	for i := range p.Findings {
		if p.Checked > 0 {
			p.Findings[i].Share = float64(p.Findings[i].Count) / float64(p.Checked)
		}
	}
	slices.SortFunc(p.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
}

// Realtime is what is happening on a site now (human traffic only).
type Realtime struct {
	Visitors5m  uint64 // distinct visitors with any event in the last 5 minutes
	Visitors30m uint64 // ... in the last 30 minutes
	Pages       []BreakdownRow
	Sources     []BreakdownRow
}

// RealtimeLimit is how many pages and sources Realtime returns.
const RealtimeLimit = 10

// Realtime reports the visitors of the last 5 and 30 minutes before now,
// and the top pages and sources of the last 30 minutes.
func (s *Store) Realtime(ctx context.Context, siteID uuid.UUID, now time.Time) (Realtime, error) {
	now = now.UTC().Truncate(time.Second).Add(time.Second) // ts has second precision: include this second
	q := Query{SiteID: siteID, From: now.Add(-30 * time.Minute), To: now, View: ViewHuman}
	if err := q.Validate(); err != nil {
		return Realtime{}, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return Realtime{}, err
	}
	var rt Realtime
	c := clause{sql: "SELECT uniqExactIf(visitor_id, ts >= ?), uniqExact(visitor_id) ", args: []any{now.Add(-5 * time.Minute)}}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{}))
	qctx, cancel := s.queryCtx(ctx)
	err = s.scanRows(qctx, "realtime", c, func(r driver.Rows) error { return r.Scan(&rt.Visitors5m, &rt.Visitors30m) })
	cancel()
	if err != nil {
		return rt, err
	}
	pages, err := s.Breakdown(ctx, q, DimPage, RealtimeLimit)
	if err != nil {
		return rt, err
	}
	sources, err := s.Breakdown(ctx, q, DimSource, RealtimeLimit)
	if err != nil {
		return rt, err
	}
	rt.Pages, rt.Sources = pages.Rows, sources.Rows
	return rt, nil
}
