package dashboard

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// The raw events export: a site's events for a period (with the overview's
// view and filters) as CSV or Parquet, streamed while it is read from
// ClickHouse, one UTC day at a time, so that memory stays flat whatever
// the period (see storage.RawEvents).

// exportTimeout bounds one export's queries; the dashboard's write timeout
// bounds the download.
const exportTimeout = 5 * time.Minute

// parquetRowGroup is how many rows the Parquet writer buffers before it
// writes them out as one row group: the export's memory bound.
const parquetRowGroup = 10_000

// exportRow is one exported event. Its fields, in order, are the columns
// of both formats: the CSV header is the parquet names.
type exportRow struct {
	Time           time.Time `parquet:"time,timestamp(millisecond)"`
	EventID        uint64    `parquet:"event_id"`
	PageLoadID     string    `parquet:"page_load_id"`
	Seq            uint32    `parquet:"seq"`
	Type           string    `parquet:"type,dict"`
	Name           string    `parquet:"name,dict"`
	VisitorID      uint64    `parquet:"visitor_id"`
	SessionID      uint64    `parquet:"session_id"`
	Hostname       string    `parquet:"hostname,dict"`
	Pathname       string    `parquet:"pathname"`
	Title          string    `parquet:"title"`
	Referrer       string    `parquet:"referrer"`
	Source         string    `parquet:"source,dict"`
	Channel        string    `parquet:"channel,dict"`
	UTMSource      string    `parquet:"utm_source"`
	UTMMedium      string    `parquet:"utm_medium"`
	UTMCampaign    string    `parquet:"utm_campaign"`
	UTMContent     string    `parquet:"utm_content"`
	UTMTerm        string    `parquet:"utm_term"`
	Country        string    `parquet:"country,dict"`
	Region         string    `parquet:"region"`
	City           string    `parquet:"city"`
	ASN            uint32    `parquet:"asn"`
	Browser        string    `parquet:"browser,dict"`
	BrowserVersion string    `parquet:"browser_version"`
	OS             string    `parquet:"os,dict"`
	OSVersion      string    `parquet:"os_version"`
	Device         string    `parquet:"device,dict"`
	ScreenWidth    uint32    `parquet:"screen_width"`
	Language       string    `parquet:"language"`
	Timezone       string    `parquet:"timezone"`
	EngagementMS   uint32    `parquet:"engagement_ms"`
	ScrollDepth    uint32    `parquet:"scroll_depth"`
	Value          float64   `parquet:"value"`
	Props          string    `parquet:"props"` // a JSON object
	Verified       bool      `parquet:"verified"`
	Score          uint32    `parquet:"score"`
	Verdict        string    `parquet:"verdict,dict"`
	Class          string    `parquet:"class,dict"`
	Reasons        string    `parquet:"reasons"` // space-separated codes
	Ingest         string    `parquet:"ingest,dict"`
	Quarantined    bool      `parquet:"quarantined"`
}

func exportRowOf(e *storage.RawEvent) exportRow {
	props := map[string]string{}
	for i, k := range e.PropKeys {
		if i < len(e.PropValues) {
			props[k] = e.PropValues[i]
		}
	}
	propsJSON, _ := json.Marshal(props) // a map of strings always marshals
	return exportRow{Time: e.TS, EventID: e.EventID, PageLoadID: e.PageLoadID.String(), Seq: e.Seq, Type: e.Type, Name: e.Name,
		VisitorID: e.VisitorID, SessionID: e.SessionID, Hostname: e.Hostname, Pathname: e.Pathname, Title: e.Title, Referrer: e.Referrer,
		Source: e.Source, Channel: e.Channel, UTMSource: e.UTMSource, UTMMedium: e.UTMMedium, UTMCampaign: e.UTMCampaign,
		UTMContent: e.UTMContent, UTMTerm: e.UTMTerm, Country: e.Country, Region: e.Region, City: e.City, ASN: e.ASN,
		Browser: e.Browser, BrowserVersion: e.BrowserVersion, OS: e.OS, OSVersion: e.OSVersion, Device: e.Device,
		ScreenWidth: uint32(e.ScreenWidth), Language: e.Language, Timezone: e.Timezone, EngagementMS: e.EngagementMS,
		ScrollDepth: uint32(e.ScrollDepth), Value: e.Value, Props: string(propsJSON), Verified: e.Verified, Score: uint32(e.Score),
		Verdict: e.Verdict, Class: e.Class, Reasons: strings.Join(e.Reasons, " "), Ingest: e.Ingest, Quarantined: e.Quarantined}
}

// rowWriter writes exported rows in one format; Close completes the file.
type rowWriter interface {
	Write(r *exportRow) error
	Close() error
}

// exportSlots bounds the exports running at once in this process: each
// keeps a ClickHouse query and a core busy for seconds.
var exportSlots = make(chan struct{}, 2)

// exportFormat is a file format the export offers.
type exportFormat struct {
	label, ext, contentType string
	writer                  func(w io.Writer) rowWriter
}

var exportFormats = map[string]exportFormat{
	"csv": {label: "CSV (spreadsheets; UTF-8, comma-separated, with a header row)", ext: "csv", contentType: "text/csv; charset=utf-8",
		writer: func(w io.Writer) rowWriter { return newCSVRows(w) }},
	"parquet": {label: "Parquet (data tools: DuckDB, pandas, Spark, ClickHouse)", ext: "parquet", contentType: "application/vnd.apache.parquet",
		writer: func(w io.Writer) rowWriter {
			return parquetRows{parquet.NewGenericWriter[exportRow](w, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(parquetRowGroup))}
		}},
}

// exportFormatOrder is the order the page offers them, the default first.
var exportFormatOrder = []string{"csv", "parquet"}

type parquetRows struct {
	w *parquet.GenericWriter[exportRow]
}

func (p parquetRows) Write(r *exportRow) error {
	_, err := p.w.Write([]exportRow{*r})
	return err
}

func (p parquetRows) Close() error { return p.w.Close() }

// csvRows writes the columns of exportRow, by reflection so that the
// struct stays the one list of columns.
type csvRows struct {
	buf    *bufio.Writer
	w      *csv.Writer
	header bool
	record []string
}

func newCSVRows(w io.Writer) *csvRows {
	buf := bufio.NewWriterSize(w, 64<<10)
	return &csvRows{buf: buf, w: csv.NewWriter(buf)}
}

var exportRowType = reflect.TypeFor[exportRow]()

func (c *csvRows) writeHeader() error {
	c.header = true
	for i := range exportRowType.NumField() {
		name, _, _ := strings.Cut(exportRowType.Field(i).Tag.Get("parquet"), ",")
		c.record = append(c.record, name)
	}
	return c.w.Write(c.record)
}

func (c *csvRows) Write(r *exportRow) error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		c.record[i] = csvCell(v.Field(i).Interface())
	}
	return c.w.Write(c.record)
}

// Close writes what is buffered; an empty export is its header alone.
func (c *csvRows) Close() error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

// defuseFormula defends against CSV injection (OWASP, "CSV Injection"): a
// spreadsheet runs a cell that starts with = + - @ (or a tab or carriage
// return before one) as a formula, so such text gets a leading apostrophe,
// which spreadsheets show as text and hide.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvCell formats one value of a raw export; text through defuseFormula.
// Numbers are written as they are: they cannot carry a formula.
func csvCell(v any) string {
	switch x := v.(type) {
	case string:
		return defuseFormula(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	panic("dashboard: csv: no format for " + reflect.TypeOf(v).String())
}

// exportPeriods are the periods the export page offers.
var exportPeriods = []views.Option{
	{Value: "today", Label: "Today"}, {Value: "yesterday", Label: "Yesterday"}, {Value: "7d", Label: "Last 7 days"},
	{Value: "30d", Label: "Last 30 days"}, {Value: "mtd", Label: "Month to date"}, {Value: "lastmonth", Label: "Last month"},
	{Value: "12mo", Label: "Last 12 months"}, {Value: "custom", Label: "Custom (from and to below)"},
}

// exportPage offers the download for the period, view and filters of the
// URL (the overview links here with its own), or the defaults.
func (h *Handler) exportPage(c *fiber.Ctx) error {
	s := siteOf(c)
	m := views.Export{Chrome: chromeOf(c, "Export · "+s.Name), Site: siteHeader(s, roleOf(c)), Periods: exportPeriods,
		MaxRows: formatCount(storage.MaxRawEvents)}
	for _, name := range exportFormatOrder {
		m.Formats = append(m.Formats, views.Option{Value: name, Label: exportFormats[name].label})
	}
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	q, qerr := storage.ParseQuery(v, h.now())
	if err != nil || qerr != nil {
		q, _ = storage.ParseQuery(url.Values{}, h.now())
	}
	m.Period, m.View = string(q.Period), string(q.View)
	if q.Period == storage.PeriodCustom {
		m.From, m.To = q.From.Format(time.DateOnly), q.To.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	for _, f := range q.Filters {
		m.Hidden = append(m.Hidden, views.Hidden{Name: "f", Value: f.String()})
		m.Filters = append(m.Filters, f.String())
	}
	return render(c, views.ExportPage(m))
}

// exportEvents streams the raw events file. The query is checked and the
// events counted first, so that a bad request or one over the cap gets an
// error page rather than a broken file. A failure while streaming ends
// the connection without the chunked body's end, so the client sees an
// incomplete download rather than a short file that looks whole.
func (h *Handler) exportEvents(c *fiber.Ctx) error {
	s := siteOf(c)
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad address", message: "The address's query string is malformed."}
	}
	if p := v.Get("period"); p != "" && p != string(storage.PeriodCustom) {
		// The form always sends its date fields; they only count for a
		// custom period.
		v.Del("from")
		v.Del("to")
	}
	name := v.Get("format")
	if name == "" {
		name = exportFormatOrder[0]
	}
	format, ok := exportFormats[name]
	if !ok {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad export", message: "Choose the CSV or the Parquet format."}
	}
	q, err := storage.ParseQuery(v, h.now(), "format")
	if err != nil {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad export", message: "The export cannot be made: " + err.Error() + "."}
	}
	q.SiteID = s.ID
	n, err := h.store.CountRawEvents(c.UserContext(), q)
	if err != nil {
		return err
	}
	if n > storage.MaxRawEvents {
		return &pageError{status: fiber.StatusUnprocessableEntity, title: "Too many events",
			message: "The period has " + formatCount(n) + " events; one file holds at most " + formatCount(storage.MaxRawEvents) + ". Choose a shorter period."}
	}
	last := q.To.AddDate(0, 0, -1)
	// The domain passed storage.ValidDomain: safe in a quoted file name.
	file := "verity-" + s.Domain + "-" + q.From.Format(time.DateOnly) + "-" + last.Format(time.DateOnly) + "." + format.ext
	// Set only once nothing can fail: an error page must not be saved
	// as the file.
	fileHeaders := func() {
		c.Set(fiber.HeaderContentType, format.contentType)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+file+`"`)
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	if c.Method() == fiber.MethodHead {
		fileHeaders()
		return nil // the headers only: no file is made, nothing to audit
	}
	select {
	case exportSlots <- struct{}{}:
	default:
		c.Set(fiber.HeaderRetryAfter, "30")
		return &pageError{status: fiber.StatusTooManyRequests, title: "Exports are busy",
			message: "Other exports are running right now. Try again in a minute."}
	}
	release := func() { <-exportSlots }
	detail := "site " + s.ID.String() + ": " + name + " " + q.From.Format(time.DateOnly) + " to " + last.Format(time.DateOnly) + ", view " + string(q.View) + ", " + strconv.FormatUint(n, 10) + " events"
	if err := h.auditTenant(c, s.TenantID, "export.events", s.ID.String(), detail); err != nil {
		release()
		return err
	}
	fileHeaders()
	pr, pw := io.Pipe()
	log := h.log
	go func() {
		// The request's context ends with the handler; the stream outlives
		// it. If the client goes away, fasthttp closes pr and the next
		// write ends the export.
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		w := format.writer(pw)
		err := h.store.RawEvents(ctx, q, func(e *storage.RawEvent) error {
			r := exportRowOf(e)
			return w.Write(&r)
		})
		if err == nil {
			err = w.Close()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			log.Error("export failed", "site", s.ID.String(), "err", err)
		}
		// The slot is free before the client sees the end of the file.
		release()
		pw.CloseWithError(err)
	}()
	return c.SendStream(pr)
}
