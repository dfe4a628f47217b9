package dashboard

import (
	"time"

	"github.com/verityhq/verity/storage"
)

// periods are the choices of the period picker, in its order, with their
// labels; storage.ParseQuery reads them (and custom, the date form).
var periods = []struct {
	period storage.Period
	label  string
}{
	{storage.PeriodToday, "Today"}, {storage.PeriodYesterday, "Yesterday"}, {storage.Period7d, "Last 7 days"},
	{storage.Period30d, "Last 30 days"}, {storage.PeriodMTD, "Month to date"}, {storage.PeriodLastMonth, "Last month"},
	{storage.Period12mo, "Last 12 months"},
}

// periodLabel says q's period in words ("Last 30 days", "1 Mar 2026 – 31
// Mar 2026").
func periodLabel(q storage.Query) string {
	for _, p := range periods {
		if p.period == q.Period {
			return p.label
		}
	}
	last := q.To.AddDate(0, 0, -1)
	if last.Equal(q.From) {
		return q.From.Format("2 Jan 2006")
	}
	return q.From.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
}

// bucketLabel formats a time-series bucket's start for the chart.
func bucketLabel(interval storage.Interval, t time.Time) string {
	if interval == storage.IntervalHour {
		return t.Format("2 Jan 15:04")
	}
	return t.Format("Mon 2 Jan 2006")
}
