package storage_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
)

var filterNow = time.Date(2026, 3, 15, 13, 45, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseQueryPeriods(t *testing.T) {
	cases := map[string][2]time.Time{
		"":                 {day(2026, 2, 14), day(2026, 3, 16)},
		"period=today":     {day(2026, 3, 15), day(2026, 3, 16)},
		"period=yesterday": {day(2026, 3, 14), day(2026, 3, 15)},
		"period=7d":        {day(2026, 3, 9), day(2026, 3, 16)},
		"period=30d":       {day(2026, 2, 14), day(2026, 3, 16)},
		"period=mtd":       {day(2026, 3, 1), day(2026, 3, 16)},
		"period=lastmonth": {day(2026, 2, 1), day(2026, 3, 1)},
		"period=12mo":      {day(2025, 4, 1), day(2026, 4, 1)},
		"period=custom&from=2026-01-01&to=2026-01-31": {day(2026, 1, 1), day(2026, 2, 1)},
		"from=2026-01-05&to=2026-01-05":               {day(2026, 1, 5), day(2026, 1, 6)},
	}
	for in, want := range cases {
		v, _ := url.ParseQuery(in)
		q, err := storage.ParseQuery(v, filterNow)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if !q.From.Equal(want[0]) || !q.To.Equal(want[1]) || q.View != storage.ViewHuman {
			t.Errorf("%q = [%s, %s) %s, want [%s, %s) human", in, q.From, q.To, q.View, want[0], want[1])
		}
	}
}

func TestParseQueryFiltersAndRoundTrip(t *testing.T) {
	in := "period=custom&from=2026-01-01&to=2026-01-31&view=all&compare=previous" +
		"&f=source:Google&f=!country:DE&f=page:/blog/*&f=prop:plan=pro%3Dplus&f=!event:Sign+up&f=city:"
	v, _ := url.ParseQuery(in)
	q, err := storage.ParseQuery(v, filterNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Filter{
		{Dimension: storage.DimSource, Value: "Google"},
		{Dimension: storage.DimCountry, Value: "DE", Negate: true},
		{Dimension: storage.DimPage, Value: "/blog/*"},
		{Dimension: storage.DimProp, Key: "plan", Value: "pro=plus"},
		{Dimension: storage.DimEvent, Value: "Sign up", Negate: true},
		{Dimension: storage.DimCity, Value: ""},
	}
	if !reflect.DeepEqual(q.Filters, want) || q.View != storage.ViewAll || !q.Compare || q.Period != storage.PeriodCustom {
		t.Fatalf("ParseQuery = %+v", q)
	}
	back, err := storage.ParseQuery(q.Encode(), filterNow)
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("round trip: %+v, %v\nwant %+v", back, err, q)
	}
	prev := q.Previous()
	if !prev.From.Equal(day(2025, 12, 1)) || !prev.To.Equal(day(2026, 1, 1)) || prev.Compare {
		t.Errorf("Previous = [%s, %s) compare %v", prev.From, prev.To, prev.Compare)
	}
	// Parameters the caller reads itself are allowed only when named.
	v.Set("interval", "day")
	if _, err := storage.ParseQuery(v, filterNow); err == nil {
		t.Error("an unnamed extra parameter was accepted")
	}
	if _, err := storage.ParseQuery(v, filterNow, "interval"); err != nil {
		t.Errorf("a named extra parameter was refused: %v", err)
	}
}

func TestParseQueryErrors(t *testing.T) {
	cases := map[string]string{
		"site=00000000-0000-4000-8000-000000000001": "unknown parameter",
		"period=7d&period=30d":                      "given 2 times",
		"period=week":                               "is not one of",
		"period=7d&from=2026-01-01":                 "need period=custom",
		"period=custom&from=2026-01-01":             "needs both",
		"from=2026-02-30&to=2026-03-01":             "not a date",
		"from=1999-12-31&to=2000-01-01":             "out of range",
		"from=2026-03-02&to=2026-03-01":             "before",
		"from=2020-01-01&to=2026-01-01":             "at most 731",
		"view=bots":                                 "unknown view",
		"compare=year":                              "compare",
		"f=nope:1":                                  "unknown dimension",
		"f=source":                                  "want dimension:value",
		"f=prop:plan":                               "want prop:key=value",
		"f=prop:=x":                                 "key must be",
		"f=source:" + strings.Repeat("x", 1025):     "longer than",
		"f=source:%ff":                              "UTF-8",
		"f=" + strings.Repeat("&f=page:/", 21)[3:]:  "at most 20",
		"f=pathname%3B+DROP+TABLE+events:x":         "unknown dimension",
		"f=" + strings.Repeat("z", 5000) + ":x":     "unknown dimension",
	}
	for in, want := range cases {
		v, err := url.ParseQuery(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		_, err = storage.ParseQuery(v, filterNow)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60q: error %v, want one containing %q", in, err, want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("%.60q: error message of %d bytes quotes too much input", in, len(err.Error()))
		}
	}
}

func TestParseDimension(t *testing.T) {
	for _, ok := range []string{"source", "entry_page", "browser_version", "event", "prop:plan"} {
		if _, err := storage.ParseDimension(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "prop", "prop:", "pathname", "source ", "1=1"} {
		if _, err := storage.ParseDimension(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRateVital(t *testing.T) {
	cases := []struct {
		name string
		v    float64
		want string
	}{
		{"LCP", 2500, "good"}, {"LCP", 2501, "needs-improvement"}, {"LCP", 4001, "poor"},
		{"INP", 200, "good"}, {"INP", 500, "needs-improvement"}, {"INP", 501, "poor"},
		{"CLS", 0.1, "good"}, {"CLS", 0.11, "needs-improvement"}, {"CLS", 0.26, "poor"},
		{"FCP", 1800, "good"}, {"FCP", 3000.5, "poor"}, {"TTFB", 800, "good"}, {"TTFB", 1801, "poor"},
	}
	for _, c := range cases {
		if got := storage.RateVital(c.name, c.v); got != c.want {
			t.Errorf("RateVital(%s, %v) = %s, want %s", c.name, c.v, got, c.want)
		}
	}
}

// FuzzParseQuery: no input panics, every accepted query is valid and
// survives Encode and ParseQuery unchanged.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "period=today&view=suspicious&compare=previous", "f=!page:/blog/*&f=prop:a=b=c",
		"from=2026-01-01&to=2026-01-31&f=source:Direct+%2F+None", "f=source:'%20OR%201=1--",
		"f=page:%00%ff", "f=prop:%3D%3D", "f=!!source:x", "f=source:x%3Af=country:y", "period=custom&from=9999-12-31&to=9999-12-31",
		"f=referrer:" + strings.Repeat("%41", 1024), "f=city:\\'\\\\", "view=&compare=", "f=page:*", "f=%21prop:k%3Dv",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := storage.ParseQuery(v, filterNow)
		if err != nil {
			return
		}
		q.SiteID = statsSite
		if err := q.Validate(); err != nil {
			t.Fatalf("%q parsed into an invalid query: %v", raw, err)
		}
		back, err := storage.ParseQuery(q.Encode(), filterNow)
		back.SiteID = statsSite
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Fatalf("%q: round trip gave %+v, %v; want %+v", raw, back, err, q)
		}
	})
}

func TestEncodeCodeBuiltQuery(t *testing.T) {
	q := statsQuery("!page:/blog/*", "prop:plan=pro")
	q.Period, q.Compare = "", true
	if got, want := q.Encode().Encode(), "compare=previous&f=%21page%3A%2Fblog%2F%2A&f=prop%3Aplan%3Dpro&from=2026-03-01&period=custom&to=2026-03-07"; got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
	if got := storage.DefaultInterval(q); got != storage.IntervalDay {
		t.Errorf("DefaultInterval(a week) = %s", got)
	}
	q.To = q.From.Add(48 * time.Hour)
	if got := storage.DefaultInterval(q); got != storage.IntervalHour {
		t.Errorf("DefaultInterval(two days) = %s", got)
	}
	for in, want := range map[string]storage.Interval{"": "", "hour": storage.IntervalHour, "day": storage.IntervalDay} {
		if got, err := storage.ParseInterval(in); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := storage.ParseInterval("minute"); err == nil {
		t.Error("ParseInterval accepted minute")
	}
}

func TestWithAndWithoutFilter(t *testing.T) {
	q := statsQuery("source:Google")
	more := q.WithFilter(storage.Filter{Dimension: storage.DimCountry, Value: "DE"})
	fewer := more.WithoutFilter(0)
	if len(q.Filters) != 1 || len(more.Filters) != 2 || len(fewer.Filters) != 1 || fewer.Filters[0].Dimension != storage.DimCountry || more.Filters[0].Dimension != storage.DimSource {
		t.Errorf("q %v, more %v, fewer %v", q.Filters, more.Filters, fewer.Filters)
	}
	if got := more.WithoutFilter(5); len(got.Filters) != 2 {
		t.Errorf("WithoutFilter(out of range) = %v", got.Filters)
	}
}
