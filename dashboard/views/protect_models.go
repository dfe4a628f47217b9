package views

// Protection is a site's rules and quarantines page.
type Protection struct {
	Chrome
	Site            SiteHeader
	Notice          string
	Rules           []RuleRow
	RuleKinds       []Option
	RuleForm        RuleForm
	RuleError       string
	Quarantines     []QuarantineRow
	QuarantineKinds []Option
	QuarantineForm  QuarantineForm
	QuarantineError string
}

// RuleRow is one allow or deny rule.
type RuleRow struct{ ID, Action, Kind, Value, Note, CreatedBy, Created string }

// RuleForm is what the new-rule form shows (again, after a mistake).
type RuleForm struct{ Action, Kind, Value, Note string }

// QuarantineRow is one quarantine, active or revoked.
type QuarantineRow struct {
	ID, From, To, Kind, Value, Note, CreatedBy string
	Revoked                                    bool
}

// QuarantineForm is what the new-quarantine form shows.
type QuarantineForm struct{ From, To, Kind, Value, Note string }

// Export is a site's data export page.
type Export struct {
	Chrome
	Site     SiteHeader
	Periods  []Option
	Period   string
	From, To string // the custom period's days
	View     string
	Hidden   []Hidden // the URL's filters, kept by the form
	Filters  []string // the same, as text
	Formats  []Option
	MaxRows  string
}
