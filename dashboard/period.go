package dashboard

import (
	"fmt"
	"iter"
	"net/url"
	"time"
)

// Period is the overview's date range, as chosen in the URL.
type Period struct {
	Name     string    // one of periodNames
	From, To time.Time // from <= ts < to, UTC
	Step     Step
	// Label says the range in words for the page ("Last 30 days").
	Label string
}

// Step is the time series' bucket.
type Step string

// Steps, from finest to coarsest.
const (
	StepHour  Step = "hour"
	StepDay   Step = "day"
	StepMonth Step = "month"
)

// periodNames are the choices of the period picker, in its order.
var periodNames = []string{"today", "yesterday", "7d", "30d", "month", "lastmonth", "12mo", "custom"}

// periodLabels names each choice.
var periodLabels = map[string]string{
	"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "30d": "Last 30 days",
	"month": "Month to date", "lastmonth": "Last month", "12mo": "Last 12 months", "custom": "Custom",
}

// defaultPeriod is the period of an overview URL without one.
const defaultPeriod = "30d"

// maxCustomDays bounds a custom range.
const maxCustomDays = 2 * 366

// ParsePeriod reads period (and from, to for "custom": YYYY-MM-DD, both
// days included) from the query, relative to now. Days are UTC days.
func ParsePeriod(q url.Values, now time.Time) (Period, error) {
	name := q.Get("period")
	if name == "" {
		name = defaultPeriod
	}
	today := now.UTC().Truncate(24 * time.Hour)
	tomorrow := today.AddDate(0, 0, 1)
	monthStart := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	p := Period{Name: name, Label: periodLabels[name]}
	switch name {
	case "today":
		p.From, p.To = today, tomorrow
	case "yesterday":
		p.From, p.To = today.AddDate(0, 0, -1), today
	case "7d":
		p.From, p.To = today.AddDate(0, 0, -6), tomorrow
	case "30d":
		p.From, p.To = today.AddDate(0, 0, -29), tomorrow
	case "month":
		p.From, p.To = monthStart, tomorrow
	case "lastmonth":
		p.From, p.To = monthStart.AddDate(0, -1, 0), monthStart
	case "12mo":
		p.From, p.To = monthStart.AddDate(0, -11, 0), monthStart.AddDate(0, 1, 0)
	case "custom":
		from, err1 := time.Parse(time.DateOnly, q.Get("from"))
		to, err2 := time.Parse(time.DateOnly, q.Get("to"))
		switch {
		case err1 != nil || err2 != nil:
			return Period{}, fmt.Errorf("a custom period needs from and to as dates, e.g. from=2026-03-01&to=2026-03-31")
		case to.Before(from):
			return Period{}, fmt.Errorf("the custom period ends (%s) before it starts (%s)", q.Get("to"), q.Get("from"))
		case to.Sub(from) > maxCustomDays*24*time.Hour:
			return Period{}, fmt.Errorf("the custom period is longer than %d days", maxCustomDays)
		}
		p.From, p.To = from, to.AddDate(0, 0, 1)
		p.Label = from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
	default:
		return Period{}, fmt.Errorf("unknown period %q", name)
	}
	switch span := p.To.Sub(p.From); {
	case span <= 2*24*time.Hour:
		p.Step = StepHour
	case span <= 92*24*time.Hour:
		p.Step = StepDay
	default:
		p.Step = StepMonth
	}
	return p, nil
}

// next is the start of the bucket after the one starting at t.
func (s Step) next(t time.Time) time.Time {
	switch s {
	case StepHour:
		return t.Add(time.Hour)
	case StepMonth:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// buckets yields the start of every bucket from from (a bucket start) to to.
func (s Step) buckets(from, to time.Time) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		for t := from; t.Before(to); t = s.next(t) {
			if !yield(t) {
				return
			}
		}
	}
}

// label formats a bucket start for the chart.
func (s Step) label(t time.Time) string {
	switch s {
	case StepHour:
		return t.Format("2 Jan 15:04")
	case StepMonth:
		return t.Format("Jan 2006")
	}
	return t.Format("Mon 2 Jan 2006")
}
