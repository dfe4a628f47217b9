package views

// Chrome is what every page's frame shows: its title, the CSRF token for
// its forms, who is signed in ("" when nobody is), and whether they are an
// operator (the navigation then links the operator view).
type Chrome struct {
	Title    string
	CSRF     string
	User     string
	Operator bool
	// Refresh, when not 0, reloads the page every so many seconds when
	// JavaScript is off (htmx refreshes parts of it otherwise).
	Refresh int
}

// Login is the sign-in page.
type Login struct {
	Chrome
	Email string
	Error string
}

// Account is the account page.
type Account struct {
	Chrome
	Email, Name string
	Notice      string
	Error       string
	TOTPError   string
	TOTPOn      bool       // two-factor sign-in is on
	TOTPSetup   *TOTPSetup // a new key being set up, shown once
}

// TOTPSetup is a new two-factor key: its QR code (a data: URL of a PNG)
// and its text for typing in.
type TOTPSetup struct{ Secret, QR string }

// Code is the sign-in step that asks for the two-factor code.
type Code struct {
	Chrome
	Error string
}

// InviteAccept is the page an invite link opens.
type InviteAccept struct {
	Chrome
	TenantName, Email, Role string
	HasAccount              bool // prove the existing account's password instead of setting one
	Error                   string
}

// Sites lists the user's teams and their sites.
type Sites struct {
	Chrome
	Teams []Team
}

// Team is one tenant the user belongs to.
type Team struct {
	ID, Name, Role string
	CanManage      bool
	Sites          []SiteRow
}

// SiteRow is one site in the list.
type SiteRow struct {
	ID, Name, Domain, Snippet string
}

// SiteHeader heads every page of one site.
type SiteHeader struct {
	ID, TenantID, Name, Domain string
	CanManage                  bool
}

// Settings is a site's settings page.
type Settings struct {
	Chrome
	Site                             SiteHeader
	Name, Domain, Origins, Retention string
	DNT                              bool
	Snippet, SRI, PublicKey          string
	SecretVersion                    int
	CanRotateSecret                  bool
	NewSecret                        string // shown once, after rotation
	Notice                           string
	Errors                           []string
}

// Members is a tenant's members page.
type Members struct {
	Chrome
	TenantID, TenantName string
	CanManage, IsOwner   bool
	Me                   string // the signed-in user's id
	Members              []MemberRow
	Invites              []InviteRow
	InviteLink           string // shown once, after inviting
	InviteEmail          string
	Error                string
}

// MemberRow is one member.
type MemberRow struct {
	UserID, Email, Name, Role string
	Editable                  bool
}

// InviteRow is one pending invite.
type InviteRow struct{ ID, Email, Role, Expires string }

// Tokens is a tenant's API tokens page.
type Tokens struct {
	Chrome
	TenantID, TenantName string
	CanManage            bool
	Sites                []Option
	List                 []TokenRow
	NewToken             string // shown once, after creating
	Error                string
}

// Option is one choice of a select or checkbox group.
type Option struct{ Value, Label string }

// TokenRow is one live token.
type TokenRow struct{ ID, Name, Sites, Created string }
