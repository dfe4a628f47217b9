package views

// Overview is a site's statistics page.
type Overview struct {
	Chrome
	Site     SiteHeader
	Period   string // label of the chosen period
	From, To string // the period's first and last day, for the custom form
	View     string
	Periods  []Choice
	Views    []Choice
	Hidden   []Hidden // the URL's other parameters, kept by the custom-period form
	Chips    []Chip
	ClearURL string // removes every filter; "" without filters
	Empty    *Empty // nothing to show: why, and what to do
	Totals   []Stat
	Chart    Chart
	Panels   []Panel // sources, pages, locations, devices
	Events   Panel
	Props    *Panel // the chosen event's properties; nil when none is chosen
	Vitals   Vitals
	DOM      DOM
	Quality  Quality

	TotalsExport, ChartExport string // CSV links
}

// Empty explains an overview without data.
type Empty struct {
	Title, Message string
	Snippet        string // the install snippet, when the site may have none
}

// Choice is one option of a picker, as a link.
type Choice struct {
	Label, URL string
	Active     bool
}

// Hidden is a hidden form input.
type Hidden struct{ Name, Value string }

// Chip is one active filter, with the link that removes it.
type Chip struct{ Label, Value, RemoveURL string }

// Stat is one headline number and its change since the previous period.
type Stat struct {
	Label, Value string
	Previous     string // the previous period's value
	Change       string // "+12%", "−3 pts", "new", "±0%"
	Trend        string // up, down or flat
	Good         bool   // the change is good news
}

// Panel is a ranked table of one dimension's values, with tabs that switch
// the dimension. Each row links to the page with its filter added.
type Panel struct {
	ID, Title string
	Tabs      []Choice
	Columns   []string // the dimension's, then one per cell
	Rows      []Row
	ExportURL string
}

// Row is one value of a Panel.
type Row struct {
	Label     string
	FilterURL string
	Cells     []string
	Bar       string // share of the total, 0 to 100
}

// Chart is a line chart of two series over labelled buckets.
type Chart struct {
	Title          string
	ALabel, BLabel string
	Points         []ChartPoint
}

// ChartPoint is one bucket of a Chart.
type ChartPoint struct {
	Label string
	A, B  uint64
}

// Vitals is the Web Vitals panel: p75 of each vital for the site and its
// pages with the most samples.
type Vitals struct {
	Names     []string // column order
	Site      VitalsRow
	Pages     []VitalsRow
	ExportURL string
}

// VitalsRow is one page's (or the site's) vitals.
type VitalsRow struct {
	Label, FilterURL, Samples string
	Cells                     []VitalCell // as Names
}

// VitalCell is one p75 and its rating (good, needs-improvement, poor; ""
// without samples).
type VitalCell struct{ Value, Rating, Samples string }

// DOM is the DOM-check panel: which pages miss what.
type DOM struct {
	Checked   string // page loads checked
	Site      []FindingRow
	Pages     []DOMPage
	ExportURL string
}

// FindingRow is one problem and how many checked page loads had it.
type FindingRow struct{ Name, Label, Count, Share string }

// DOMPage is one page's problems.
type DOMPage struct {
	Path, FilterURL, Checked string
	Findings                 []FindingRow
}

// Quality is the traffic-quality panel.
type Quality struct {
	Total     string
	Verdicts  []Share
	Reasons   []ReasonRow
	Rejected  []ReasonRow
	Filtered  bool // filters are set: say that they do not apply here
	ExportURL string
}

// Share is one verdict's part of the events.
type Share struct{ Key, Label, Count, Percent string }

// ReasonRow is one reason code and how often it applied.
type ReasonRow struct{ Verdict, Class, Reason, Count string }
