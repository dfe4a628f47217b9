package views

// Operator is the operator view: every tenant with its usage. It shows
// counts only, never a tenant's statistics.
type Operator struct {
	Chrome
	Month      string // this month's name, for the column headings
	Tenants    []TenantUsage
	Total      TenantUsage // the sum of every row (Name and ID empty)
	Notice     string
	Error      string // about the form named by ErrorFor
	ErrorFor   string // "new-tenant" or a tenant id
	NewName    string // the new-tenant form's value after an error
	InviteLink string // shown once, after inviting
	InviteFor  string // the invited email and tenant, for the link's caption
}

// TenantUsage is one tenant's row of the operator view.
type TenantUsage struct {
	ID, Name, Created          string
	Sites, Members             string
	Owners                     []string // owners' emails; none until the first invite is accepted
	PendingOwners              []string // emails with a pending owner invite
	Events30d, EventsMonth     string
	Rejected30d, RejectedMonth string
}
