package dashboard

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/verityhq/verity/storage"
)

// exportTraffic is statsTraffic plus an event whose text would be a
// spreadsheet formula and which has properties.
func (f *fixture) exportTraffic() {
	f.t.Helper()
	f.statsTraffic()
	e := pageview(f.siteA, statsDay.AddDate(0, 0, 1).Add(10*time.Hour), 7, 7, "/signup", "-cmd", "ok")
	e.Type, e.Name, e.Title = "custom", "signup", "=HYPERLINK(\"https://evil.example\",\"x\")"
	e.UTMCampaign, e.Referrer = "@SUM(1+1)", "+1"
	e.PropKeys, e.PropValues = []string{"plan", "seats"}, []string{"pro", "3"}
	e.Country, e.ASN, e.Value = "DE", 3320, -2.5
	if err := f.st.InsertEvents(context.Background(), []storage.Event{e}); err != nil {
		f.t.Fatal(err)
	}
}

func readCSV(t *testing.T, r response) (header []string, rows []map[string]string) {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("not CSV with a header: %v\n%s", err, r.body)
	}
	header = records[0]
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[header[i]] = v
		}
		rows = append(rows, row)
	}
	return header, rows
}

func column(rows []map[string]string, name string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[name])
	}
	return out
}

func TestRawExportCSV(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.exportTraffic()
	c := f.signedIn(f.viewerA) // reading is every member's right
	base := "/sites/" + f.siteA.ID.String() + "/export/events?" + twoDays

	r := c.get(base + "&view=all")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		r.header.Get("Content-Disposition") != `attachment; filename="verity-acme.example-2026-03-10-2026-03-11.csv"` || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export: %d %q %q\n%s", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"), excerpt(r.body))
	}
	header, rows := readCSV(t, r)
	if header[0] != "time" || header[len(header)-1] != "quarantined" || len(header) != exportRowType.NumField() || !slices.Contains(header, "visitor_id") {
		t.Errorf("header = %q", header)
	}
	// A's seven events (the suspect one included in the all view), oldest
	// first; none of B's.
	wantPaths := []string{"/", "/pricing", "/pricing", "/", "/", "/blog", "/signup"}
	wantTypes := []string{"pageview", "pageview", "engagement", "pageview", "pageview", "pageview", "custom"}
	if got := column(rows, "pathname"); !slices.Equal(got, wantPaths) {
		t.Errorf("paths = %q, want %q", got, wantPaths)
	}
	if got := column(rows, "type"); !slices.Equal(got, wantTypes) {
		t.Errorf("types = %q, want %q", got, wantTypes)
	}
	if got := column(rows, "hostname"); slices.Contains(got, "beta.example") {
		t.Errorf("B's events exported: %q", got)
	}
	if got := column(rows, "verdict"); !slices.Equal(got, []string{"ok", "ok", "ok", "ok", "suspect", "ok", "ok"}) {
		t.Errorf("verdicts = %q", got)
	}
	first, last := rows[0], rows[len(rows)-1]
	if first["time"] != "2026-03-10T10:00:00Z" || first["visitor_id"] != "1" || first["source"] != "Google" || first["quarantined"] != "0" {
		t.Errorf("first row = %v", first)
	}
	if rows[2]["engagement_ms"] != "30000" || rows[4]["reasons"] != "webdriver" || rows[4]["class"] != "sivt_automation" {
		t.Errorf("engagement row %v, suspect row %v", rows[2], rows[4])
	}
	// Formula-looking text is defused; numbers are left alone.
	want := map[string]string{"title": `'=HYPERLINK("https://evil.example","x")`, "utm_campaign": "'@SUM(1+1)", "referrer": "'+1", "source": "'-cmd",
		"name": "signup", "props": `{"plan":"pro","seats":"3"}`, "country": "DE", "asn": "3320", "value": "-2.5"}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("last row %s = %q, want %q", k, last[k], v)
		}
	}

	// The human view leaves the suspect event out; a visit filter keeps
	// Google's visits; a quarantine marks (all view) or removes (human).
	if _, rows := readCSV(t, c.get(base)); len(rows) != 6 || slices.Contains(column(rows, "verdict"), "suspect") {
		t.Errorf("human view: %d rows %q", len(rows), column(rows, "verdict"))
	}
	if _, rows := readCSV(t, c.get(base+"&f=source:Google")); !slices.Equal(column(rows, "visitor_id"), []string{"1", "1", "1", "2"}) {
		t.Errorf("filtered: visitors %q, want 1 1 1 2", column(rows, "visitor_id"))
	}
	if _, err := f.st.PutQuarantine(context.Background(), storage.Quarantine{SiteID: f.siteA.ID, From: statsDay.Add(11 * time.Hour), To: statsDay.Add(12 * time.Hour),
		Kind: storage.QuarantineSource, Value: "google"}); err != nil {
		t.Fatal(err)
	}
	if _, rows := readCSV(t, c.get(base+"&view=all")); !slices.Equal(column(rows, "quarantined"), []string{"0", "0", "0", "1", "0", "0", "0"}) {
		t.Errorf("quarantined = %q", column(rows, "quarantined"))
	}
	if _, rows := readCSV(t, c.get(base)); len(rows) != 5 || slices.Contains(column(rows, "visitor_id"), "2") {
		t.Errorf("human view with the quarantine: visitors %q", column(rows, "visitor_id"))
	}
	// An empty period is the header alone.
	if header, rows := readCSV(t, c.get("/sites/"+f.siteA.ID.String()+"/export/events?period=custom&from=2025-01-01&to=2025-01-01")); len(rows) != 0 || len(header) != exportRowType.NumField() {
		t.Errorf("empty export: %d rows, header %q", len(rows), header)
	}
	// The form's date fields count only for a custom period.
	if r := c.get("/sites/" + f.siteA.ID.String() + "/export/events?period=7d&from=&to=&view=human&format=csv"); r.status != http.StatusOK {
		t.Errorf("form with a named period: %d", r.status)
	}
	for _, bad := range []string{"?period=fortnight", "?" + twoDays + "&format=xlsx", "?" + twoDays + "&f=planet:Mars", "?" + twoDays + "&colour=red"} {
		if r := c.get("/sites/" + f.siteA.ID.String() + "/export/events" + bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Bad export") {
			t.Errorf("%s: %d, want 400", bad, r.status)
		}
	}
	// While as many exports run as there are slots, another waits.
	for range cap(exportSlots) {
		exportSlots <- struct{}{}
	}
	busy := c.get(base)
	for range cap(exportSlots) {
		<-exportSlots
	}
	if busy.status != http.StatusTooManyRequests || busy.header.Get("Retry-After") != "30" || !strings.Contains(busy.body, "Exports are busy") ||
		busy.header.Get("Content-Disposition") != "" || !strings.HasPrefix(busy.header.Get("Content-Type"), "text/html") {
		t.Errorf("export while the slots are taken: %d %q", busy.status, busy.header.Get("Retry-After"))
	}
	if r := c.get(base); r.status != http.StatusOK {
		t.Errorf("export after the slots were freed: %d", r.status)
	}
	// HEAD answers the file's headers without making it. Eight downloads
	// were made (not the refused one, not HEAD): eight audit entries.
	if r := c.do(http.MethodHead, base, nil); r.status != http.StatusOK || r.body != "" || !strings.HasSuffix(r.header.Get("Content-Disposition"), `.csv"`) {
		t.Errorf("HEAD: %d %q %q", r.status, r.header.Get("Content-Disposition"), r.body)
	}
	audit := auditWith(t, f, f.tenantA.ID, "export.", actor(f.viewerA))
	if len(audit) != 8 || audit[0] != "export.events site "+f.siteA.ID.String()+": csv 2025-01-01 to 2025-01-01, view human, 0 events" {
		t.Errorf("audit = %q", audit)
	}
}

func TestRawExportParquet(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.exportTraffic()
	r := f.signedIn(f.ownerA).get("/sites/" + f.siteA.ID.String() + "/export/events?" + twoDays + "&view=all&format=parquet")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/vnd.apache.parquet" || !strings.HasSuffix(r.header.Get("Content-Disposition"), `.parquet"`) {
		t.Fatalf("export: %d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}
	reader := parquet.NewGenericReader[exportRow](bytes.NewReader([]byte(r.body)))
	defer reader.Close()
	rows := make([]exportRow, 20)
	n, err := reader.Read(rows)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	rows = rows[:n]
	if n != 7 {
		t.Fatalf("%d rows, want 7", n)
	}
	if !rows[0].Time.Equal(statsDay.Add(10*time.Hour)) || rows[0].VisitorID != 1 || rows[0].Source != "Google" || rows[2].EngagementMS != 30000 || rows[4].Verdict != "suspect" {
		t.Errorf("rows = %+v", rows[:5])
	}
	last := rows[6]
	// Parquet keeps text as it is: no spreadsheet reads it.
	if last.Title != `=HYPERLINK("https://evil.example","x")` || last.Props != `{"plan":"pro","seats":"3"}` || last.ASN != 3320 || last.Value != -2.5 || last.Name != "signup" {
		t.Errorf("last row = %+v", last)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[any]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\t=x": "'\t=x", "\r=x": "'\r=x", "a=b": "a=b", "": "",
		uint64(18446744073709551615): "18446744073709551615", uint32(7): "7", -0.5: "-0.5", true: "1", false: "0",
		time.Date(2026, 3, 10, 14, 0, 0, 0, time.FixedZone("x", 3600)): "2026-03-10T13:00:00Z",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%#v) = %q, want %q", in, got, want)
		}
	}
}
