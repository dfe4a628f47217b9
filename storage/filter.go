package storage

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Query is what a dashboard page or a Stats API call asks about: one site,
// a period [From, To) in UTC, a view and filters that all must hold. Days
// are UTC days: a site has no display timezone yet, so "today" is the UTC
// day. The URL carries a Query (ParseQuery, Encode), so a view can be
// bookmarked and shared.
type Query struct {
	SiteID   uuid.UUID // set by the caller from the route, never from the URL
	Period   Period
	From, To time.Time // [From, To), UTC
	View     View
	Compare  bool // also report the previous period (see Previous)
	Filters  []Filter

	// quarantine is the site's active quarantines as a condition on events
	// (Store.withQuarantines loads it; "" before), applied by the view.
	quarantine clause
}

// Period names a date range relative to now (UTC days).
type Period string

// The periods the dashboard offers. Ranges end at the end of today for the
// "last N" periods, so today's data is included and the chart shows the
// whole day.
const (
	PeriodToday     Period = "today"     // today
	PeriodYesterday Period = "yesterday" // yesterday
	Period7d        Period = "7d"        // today and the 6 days before
	Period30d       Period = "30d"       // today and the 29 days before: the default
	PeriodMTD       Period = "mtd"       // this month up to the end of today
	PeriodLastMonth Period = "lastmonth" // the previous calendar month
	Period12mo      Period = "12mo"      // this month and the 11 before
	PeriodCustom    Period = "custom"    // from and to, whole days, both included
)

// Dimension is something events can be filtered and broken down by. Only
// the dimensions in dimensions exist; the SQL for each is fixed there.
type Dimension string

// The dimensions. Session dimensions describe a visit by its first (entry)
// or last (exit) pageview; event dimensions describe each event; event and
// prop select visits with a custom event.
const (
	DimSource         Dimension = "source"
	DimChannel        Dimension = "channel"
	DimReferrer       Dimension = "referrer"
	DimUTMSource      Dimension = "utm_source"
	DimUTMMedium      Dimension = "utm_medium"
	DimUTMCampaign    Dimension = "utm_campaign"
	DimUTMContent     Dimension = "utm_content"
	DimUTMTerm        Dimension = "utm_term"
	DimPage           Dimension = "page"
	DimEntryPage      Dimension = "entry_page"
	DimExitPage       Dimension = "exit_page"
	DimHostname       Dimension = "hostname"
	DimCountry        Dimension = "country"
	DimRegion         Dimension = "region"
	DimCity           Dimension = "city"
	DimDevice         Dimension = "device"
	DimBrowser        Dimension = "browser"
	DimBrowserVersion Dimension = "browser_version" // "Chrome 120"
	DimOS             Dimension = "os"
	DimOSVersion      Dimension = "os_version" // "Windows 10"
	DimEvent          Dimension = "event"      // custom event name
	DimProp           Dimension = "prop"       // a custom event's property: Filter.Key, or PropDimension(key) in a breakdown
)

type dimLevel int

const (
	levelEvent   dimLevel = iota // a column of each event
	levelSession                 // a value of the visit's entry or exit pageview
	levelCustom                  // visits with (or without) a custom event
)

// dimSpec is a dimension's SQL: expr is an allowlisted expression on one
// row; for session dimensions, session aggregates it over a visit.
type dimSpec struct {
	level   dimLevel
	expr    string
	session string
	prefix  bool // a value ending in * matches a prefix
}

func firstPageview(col string) string { return "argMinIf(" + col + ", ts, type = 'pageview')" }

// withVersion is "Chrome 120", or "Linux" when the version is unknown.
func withVersion(col string) string {
	return "if(" + col + "_version = '', " + col + ", concat(" + col + ", ' ', " + col + "_version))"
}

var dimensions = map[Dimension]dimSpec{
	DimSource:         {level: levelSession, session: firstPageview("source")},
	DimChannel:        {level: levelSession, session: firstPageview("channel")},
	DimReferrer:       {level: levelSession, session: firstPageview("referrer")},
	DimUTMSource:      {level: levelSession, session: firstPageview("utm_source")},
	DimUTMMedium:      {level: levelSession, session: firstPageview("utm_medium")},
	DimUTMCampaign:    {level: levelSession, session: firstPageview("utm_campaign")},
	DimUTMContent:     {level: levelSession, session: firstPageview("utm_content")},
	DimUTMTerm:        {level: levelSession, session: firstPageview("utm_term")},
	DimEntryPage:      {level: levelSession, session: firstPageview("pathname"), prefix: true},
	DimExitPage:       {level: levelSession, session: "argMaxIf(pathname, ts, type = 'pageview')", prefix: true},
	DimPage:           {level: levelEvent, expr: "pathname", prefix: true},
	DimHostname:       {level: levelEvent, expr: "hostname"},
	DimCountry:        {level: levelEvent, expr: "country"},
	DimRegion:         {level: levelEvent, expr: "region"},
	DimCity:           {level: levelEvent, expr: "city"},
	DimDevice:         {level: levelEvent, expr: "device"},
	DimBrowser:        {level: levelEvent, expr: "browser"},
	DimBrowserVersion: {level: levelEvent, expr: withVersion("browser")},
	DimOS:             {level: levelEvent, expr: "os"},
	DimOSVersion:      {level: levelEvent, expr: withVersion("os")},
	DimEvent:          {level: levelCustom, expr: "name"},
	DimProp:           {level: levelCustom},
}

// Filter is one condition of a Query: Dimension is (or, Negate, is not)
// Value. For page, entry and exit page a Value ending in * matches every
// path with that prefix. For prop, Key names the property.
type Filter struct {
	Dimension Dimension
	Key       string
	Value     string
	Negate    bool
}

// Limits on what a URL may ask for, so that a hostile link cannot make a
// huge query.
const (
	MaxFilters      = 20
	MaxValueLen     = 1024 // bytes of a filter value
	MaxPropKeyLen   = 128
	MaxPeriodDays   = 731 // a custom period: two years
	minCustomYear   = 2000
	queryDateLayout = time.DateOnly
)

// URL parameter names of a Query.
const (
	paramPeriod  = "period"
	paramFrom    = "from"
	paramTo      = "to"
	paramView    = "view"
	paramCompare = "compare"
	paramFilter  = "f"
)

// ParseQuery reads a Query from URL parameters, strictly: any parameter
// other than its own and the names in extra (which the caller reads) is an
// error, as are repeated parameters, bad dates and values over the limits.
// now places the named periods. Parameters:
//
//	period   today | yesterday | 7d | 30d (default) | mtd | lastmonth | 12mo | custom
//	from,to  YYYY-MM-DD, both included; with period=custom (or without period)
//	view     human (default) | all | suspicious
//	compare  previous: also report the period before
//	f        a filter, repeatable: [!]dimension:value, or [!]prop:key=value
//	         e.g. f=source:Google  f=!country:DE  f=page:/blog/*  f=prop:plan=pro
//
// The site comes from the route: the caller sets SiteID.
func ParseQuery(v url.Values, now time.Time, extra ...string) (Query, error) {
	for k, vals := range v {
		if !slices.Contains([]string{paramPeriod, paramFrom, paramTo, paramView, paramCompare, paramFilter}, k) && !slices.Contains(extra, k) {
			return Query{}, fmt.Errorf("unknown parameter %q", truncate(k))
		}
		if k != paramFilter && len(vals) > 1 {
			return Query{}, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
	}
	var q Query
	var err error
	if q.View, err = ParseView(v.Get(paramView)); err != nil {
		return Query{}, errors.New(strings.TrimPrefix(err.Error(), "storage: "))
	}
	switch c := v.Get(paramCompare); c {
	case "":
	case "previous":
		q.Compare = true
	default:
		return Query{}, fmt.Errorf("compare: %q is not supported; want previous", truncate(c))
	}
	if err := q.parsePeriod(v, now); err != nil {
		return Query{}, err
	}
	fs := v[paramFilter]
	if len(fs) > MaxFilters {
		return Query{}, fmt.Errorf("%d filters; at most %d", len(fs), MaxFilters)
	}
	for _, s := range fs {
		f, err := ParseFilter(s)
		if err != nil {
			return Query{}, err
		}
		q.Filters = append(q.Filters, f)
	}
	return q, nil
}

func (q *Query) parsePeriod(v url.Values, now time.Time) error {
	p := Period(v.Get(paramPeriod))
	from, to := v.Get(paramFrom), v.Get(paramTo)
	if p == "" {
		p = Period30d
		if from != "" || to != "" {
			p = PeriodCustom
		}
	}
	if p != PeriodCustom {
		if from != "" || to != "" {
			return fmt.Errorf("from and to need period=custom, not %q", truncate(string(p)))
		}
		var err error
		q.Period = p
		q.From, q.To, err = p.Range(now)
		return err
	}
	if from == "" || to == "" {
		return errors.New("period=custom needs both from and to (YYYY-MM-DD)")
	}
	f, err := parseDay(paramFrom, from)
	if err != nil {
		return err
	}
	t, err := parseDay(paramTo, to)
	if err != nil {
		return err
	}
	if t.Before(f) {
		return fmt.Errorf("to (%s) is before from (%s)", to, from)
	}
	if days := int(t.Sub(f).Hours()/24) + 1; days > MaxPeriodDays {
		return fmt.Errorf("the period is %d days; at most %d", days, MaxPeriodDays)
	}
	q.Period, q.From, q.To = PeriodCustom, f, t.AddDate(0, 0, 1)
	return nil
}

func parseDay(name, s string) (time.Time, error) {
	d, err := time.ParseInLocation(queryDateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", name, truncate(s))
	}
	if d.Year() < minCustomYear || d.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s: %s is out of range", name, s)
	}
	return d, nil
}

// Range is the period's [from, to) in UTC for now.
func (p Period) Range(now time.Time) (from, to time.Time, err error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	tomorrow := today.AddDate(0, 0, 1)
	switch p {
	case PeriodToday:
		return today, tomorrow, nil
	case PeriodYesterday:
		return today.AddDate(0, 0, -1), today, nil
	case Period7d:
		return today.AddDate(0, 0, -6), tomorrow, nil
	case Period30d:
		return today.AddDate(0, 0, -29), tomorrow, nil
	case PeriodMTD:
		return month, tomorrow, nil
	case PeriodLastMonth:
		return month.AddDate(0, -1, 0), month, nil
	case Period12mo:
		return month.AddDate(0, -11, 0), month.AddDate(0, 1, 0), nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("period: %q is not one of today, yesterday, 7d, 30d, mtd, lastmonth, 12mo, custom", truncate(string(p)))
}

// Previous is the comparison query: the same length of time just before.
func (q Query) Previous() Query {
	p := q
	p.From, p.To = q.From.Add(-q.To.Sub(q.From)), q.From
	p.Compare = false
	return p
}

// ParseFilter reads one filter: [!]dimension:value or [!]prop:key=value.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	body, negate := strings.CutPrefix(s, "!")
	name, value, ok := strings.Cut(body, ":")
	if !ok {
		return f, fmt.Errorf("filter %q: want dimension:value", truncate(s))
	}
	f.Dimension, f.Value, f.Negate = Dimension(name), value, negate
	if f.Dimension == DimProp {
		if f.Key, f.Value, ok = strings.Cut(value, "="); !ok {
			return f, fmt.Errorf("filter %q: want prop:key=value", truncate(s))
		}
	}
	return f, f.Validate()
}

// Validate checks the filter against the allowlist and the limits.
func (f Filter) Validate() error {
	if _, ok := dimensions[f.Dimension]; !ok {
		return fmt.Errorf("filter: unknown dimension %q", truncate(string(f.Dimension)))
	}
	if len(f.Value) > MaxValueLen {
		return fmt.Errorf("filter %s: value longer than %d bytes", f.Dimension, MaxValueLen)
	}
	if !utf8.ValidString(f.Value) || !utf8.ValidString(f.Key) {
		return fmt.Errorf("filter %s: not valid UTF-8", f.Dimension)
	}
	if strings.ContainsFunc(f.Value+f.Key, unicode.IsControl) {
		return fmt.Errorf("filter %s: control characters are not allowed", f.Dimension)
	}
	if f.Dimension == DimProp {
		if f.Key == "" || len(f.Key) > MaxPropKeyLen || strings.Contains(f.Key, "=") {
			return fmt.Errorf("filter prop: the key must be 1 to %d bytes without '='", MaxPropKeyLen)
		}
	} else if f.Key != "" {
		return fmt.Errorf("filter %s: only prop filters have a key", f.Dimension)
	}
	return nil
}

// String is the filter's URL form, which ParseFilter reads back.
func (f Filter) String() string {
	s := string(f.Dimension) + ":"
	if f.Negate {
		s = "!" + s
	}
	if f.Dimension == DimProp {
		s += f.Key + "="
	}
	return s + f.Value
}

// Encode is the Query's URL form, which ParseQuery reads back (with the
// same now). Defaults (30d, human) are left out to keep links short. A
// query built in code without a Period is encoded as custom: whole UTC days
// from From to the day before To.
func (q Query) Encode() url.Values {
	v := url.Values{}
	switch q.Period {
	case Period30d:
	case PeriodCustom, "":
		v.Set(paramPeriod, string(PeriodCustom))
		v.Set(paramFrom, q.From.UTC().Format(queryDateLayout))
		v.Set(paramTo, q.To.UTC().AddDate(0, 0, -1).Format(queryDateLayout))
	default:
		v.Set(paramPeriod, string(q.Period))
	}
	if q.View != ViewHuman && q.View != "" {
		v.Set(paramView, string(q.View))
	}
	if q.Compare {
		v.Set(paramCompare, "previous")
	}
	for _, f := range q.Filters {
		v.Add(paramFilter, f.String())
	}
	return v
}

// Validate checks a Query built in code (ParseQuery's are valid).
func (q Query) Validate() error {
	if q.SiteID == uuid.Nil {
		return errors.New("storage: query without a site")
	}
	if !q.From.Before(q.To) {
		return fmt.Errorf("storage: empty period [%s, %s)", q.From, q.To)
	}
	if _, err := ParseView(string(q.View)); err != nil {
		return err
	}
	if len(q.Filters) > MaxFilters {
		return fmt.Errorf("storage: %d filters; at most %d", len(q.Filters), MaxFilters)
	}
	for _, f := range q.Filters {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
	}
	return nil
}

// WithFilter returns a copy of q with f added: what clicking a row does.
func (q Query) WithFilter(f Filter) Query {
	q.Filters = append(slices.Clip(q.Filters), f)
	return q
}

// WithoutFilter returns a copy of q without its i-th filter: what removing
// a filter chip does.
func (q Query) WithoutFilter(i int) Query {
	if i >= 0 && i < len(q.Filters) {
		q.Filters = slices.Delete(slices.Clone(q.Filters), i, i+1)
	}
	return q
}

// truncate shortens hostile input quoted in an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
