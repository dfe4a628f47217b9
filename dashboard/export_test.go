package dashboard

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each panel exports as a CSV attachment with the overview's query applied:
// exact content, headers, formulas defused, filters honoured.
func TestExportCSV(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	now := time.Now().UTC()
	f.overviewData(now)
	c := f.signedIn(f.viewerA)
	base := "/sites/" + f.siteA.ID.String() + "/export/"
	from, to := now.AddDate(0, 0, -6).Format("20060102"), now.Format("20060102")
	for _, tc := range []struct {
		path string
		want string // the whole file, or its first lines when prefix
		file string // the attachment's name part after the domain
	}{
		{"source.csv?period=7d", "source,visitors,visits,pageviews,share\nGoogle,2,2,3,0.6667\nDirect / None,1,1,1,0.3333\n", "source"},
		{"source.csv?period=7d&f=country:FR", "source,visitors,visits,pageviews,share\nGoogle,1,1,1,1.0000\n", "source"},
		{"utm_campaign.csv?period=7d", "utm_campaign,visitors,visits,pageviews,share\n,2,2,3,0.6667\n\"'=HYPERLINK(\"\"http://evil.example\"\")\",1,1,1,0.3333\n", "utm_campaign"},
		{"event.csv?period=7d", "event,visitors,visits,events,share\nsignup,1,1,1,0.3333\n", "event"},
		{"props.csv?period=7d&prop=plan&f=event:signup", "value,visitors,visits,events,share\npro,1,1,1,1.0000\n", "props"},
		{"totals.csv?period=7d", "metric,current,previous\nvisitors,3,1\nvisits,3,1\npageviews,4,1\nviews_per_visit,1.3333,1.0000\nbounce_rate,0.6667,1.0000\nvisit_duration_seconds,10.0000,0.0000\n", "totals"},
		{"vitals.csv?period=7d", "pathname,vital,p75,samples,rating\n(whole site),LCP,5000,2,poor\n/,LCP,5000,2,poor\n", "vitals"},
		{"dom.csv?period=7d", "pathname,checked,finding,count,share\n(whole site),1,img_no_alt,1,1.0000\n/,1,img_no_alt,1,1.0000\n", "dom"},
		{"quality.csv?period=7d", "kind,verdict,class,reason,count\nevents,ok,,,10\nevents,suspect,,,1\nevents,invalid,,,0\nflagged,suspect,sivt_automation,webdriver,1\n", "quality"},
	} {
		r := c.get(base + tc.path)
		if r.status != http.StatusOK {
			t.Errorf("%s: %d\n%s", tc.path, r.status, excerpt(r.body))
			continue
		}
		if r.body != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.path, r.body, tc.want)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		wantCD := `attachment; filename="acme.example-` + tc.file + `-` + from + `-` + to + `.csv"`
		if cd := r.header.Get("Content-Disposition"); cd != wantCD {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.path, cd, wantCD)
		}
	}
	// The time series has a row per day of the period.
	r := c.get(base + "timeseries.csv?period=7d")
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 8 || lines[0] != "start,visitors,visits,pageviews" || !strings.HasSuffix(lines[7], ",3,3,4") {
		t.Errorf("time series CSV:\n%s", r.body)
	}
	for path, want := range map[string]int{
		"planet.csv":                  http.StatusNotFound,
		"hostname.csv":                http.StatusNotFound,
		"source.csv?period=forever":   http.StatusBadRequest,
		"props.csv?period=7d":         http.StatusBadRequest,
		"source.json":                 http.StatusNotFound,
		"source.csv?f=country:DE&x=1": http.StatusBadRequest,
	} {
		if r := c.get(base + path); r.status != want {
			t.Errorf("%s: %d, want %d", path, r.status, want)
		}
	}
}

func TestCSVText(t *testing.T) {
	w := &csvWriter{}
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "plain": "plain", "/a=b": "/a=b", "Google": "Google",
	} {
		if got := w.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}
