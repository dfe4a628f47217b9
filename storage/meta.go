package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound is returned when a tenant, user or site does not exist (or was
// deleted).
var ErrNotFound = errors.New("storage: not found")

// ErrExists is returned when a unique value (an email) is already taken.
var ErrExists = errors.New("storage: already exists")

// Tenant is a client company; it owns sites and has members.
type Tenant struct {
	ID        uuid.UUID
	Name      string
	CreatedAt time.Time
}

// User is a person who can log into the dashboard.
type User struct {
	ID           uuid.UUID
	Email        string // lower-case
	Name         string
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
	Disabled     bool
}

// Role is what a member may do in a tenant.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleViewer }

// Membership makes a user a member of a tenant.
type Membership struct {
	TenantID  uuid.UUID
	UserID    uuid.UUID
	Role      Role
	CreatedAt time.Time
}

// Site is one tracked website.
type Site struct {
	ID       uuid.UUID
	TenantID uuid.UUID
	Name     string
	Domain   string
	// PublicKey goes into the snippet tag (data-site); it is not a secret.
	PublicKey string
	// SecretHash is the SHA-256 of the current secret key. The secret itself
	// is derived from the master secret and SecretVersion (see abuse.Keyring)
	// and shown once; the hash lets an operator check a key a client holds.
	SecretHash    string
	SecretVersion uint32
	// AllowedOrigins are the origins the snippet may post from: exact
	// "https://example.com" or wildcard "https://*.example.com".
	AllowedOrigins []string
	RetentionDays  uint16 // 0 keeps data forever
	RespectDNT     bool   // honour Do-Not-Track and Global Privacy Control
	CreatedAt      time.Time
}

// AuditEntry records an administrative action.
type AuditEntry struct {
	TS       time.Time
	TenantID uuid.UUID
	Actor    string // "cli", "user:<id>", "operator"
	Action   string // "site.create", "site.rotate_key", ...
	Target   string
	Detail   string
}

// version orders the rows of one object; the highest wins.
func version() uint64 { return uint64(time.Now().UnixNano()) }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// CreateTenant stores a new tenant.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	t := Tenant{ID: uuid.New(), Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "tenants", "tenant_id, name, created_at, deleted, version",
		t.ID, t.Name, t.CreatedAt, uint8(0), version())
	if err != nil {
		return Tenant{}, fmt.Errorf("storage: create tenant: %w", err)
	}
	return t, nil
}

// Tenants lists the tenants, by name.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	return s.tenants(ctx, "")
}

// TenantByID returns one tenant or ErrNotFound.
func (s *Store) TenantByID(ctx context.Context, id uuid.UUID) (Tenant, error) {
	ts, err := s.tenants(ctx, "AND tenant_id = ?", id)
	if err != nil {
		return Tenant{}, err
	}
	if len(ts) == 0 {
		return Tenant{}, ErrNotFound
	}
	return ts[0], nil
}

func (s *Store) tenants(ctx context.Context, where string, args ...any) ([]Tenant, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT tenant_id, name, created_at FROM tenants FINAL WHERE deleted = 0 "+where+" ORDER BY name, tenant_id", args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
			return nil, fmt.Errorf("storage: list tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateUser stores a new user; ErrExists when the email is taken.
func (s *Store) CreateUser(ctx context.Context, email, name, passwordHash string) (User, error) {
	if _, err := s.UserByEmail(ctx, email); err == nil {
		return User{}, fmt.Errorf("storage: create user %s: %w", email, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	u := User{ID: uuid.New(), Email: email, Name: name, PasswordHash: passwordHash, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.putUser(ctx, u); err != nil {
		return User{}, err
	}
	return u, nil
}

// UpdateUser stores a new version of u (a new password, a name, disabling).
func (s *Store) UpdateUser(ctx context.Context, u User) error { return s.putUser(ctx, u) }

func (s *Store) putUser(ctx context.Context, u User) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "users", "user_id, email, name, password_hash, created_at, disabled, version",
		u.ID, u.Email, u.Name, u.PasswordHash, u.CreatedAt, b2u(u.Disabled), version())
	if err != nil {
		return fmt.Errorf("storage: put user: %w", err)
	}
	return nil
}

// UserByEmail returns the user with that email or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.user(ctx, "email = ?", email)
}

// UserByID returns the user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id uuid.UUID) (User, error) {
	return s.user(ctx, "user_id = ?", id)
}

func (s *Store) user(ctx context.Context, where string, arg any) (User, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT user_id, email, name, password_hash, created_at, disabled FROM users FINAL WHERE "+where+" LIMIT 1", arg)
	if err != nil {
		return User{}, fmt.Errorf("storage: get user: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return User{}, fmt.Errorf("storage: get user: %w", err)
		}
		return User{}, ErrNotFound
	}
	var u User
	var disabled uint8
	if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt, &disabled); err != nil {
		return User{}, fmt.Errorf("storage: get user: %w", err)
	}
	u.Disabled = disabled == 1
	return u, nil
}

// SetMembership makes the user a member of the tenant with the role, or
// changes the role.
func (s *Store) SetMembership(ctx context.Context, m Membership) error {
	if !m.Role.Valid() {
		return fmt.Errorf("storage: unknown role %q", m.Role)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "memberships", "tenant_id, user_id, role, created_at, deleted, version",
		m.TenantID, m.UserID, string(m.Role), m.CreatedAt, uint8(0), version())
	if err != nil {
		return fmt.Errorf("storage: set membership: %w", err)
	}
	return nil
}

// MembershipsOfUser lists the tenants a user belongs to.
func (s *Store) MembershipsOfUser(ctx context.Context, userID uuid.UUID) ([]Membership, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT tenant_id, user_id, role, created_at FROM memberships FINAL WHERE user_id = ? AND deleted = 0 ORDER BY tenant_id", userID)
	if err != nil {
		return nil, fmt.Errorf("storage: list memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var role string
		if err := rows.Scan(&m.TenantID, &m.UserID, &role, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("storage: list memberships: %w", err)
		}
		m.Role = Role(role)
		out = append(out, m)
	}
	return out, rows.Err()
}

// PutSite stores a new site or a new version of one.
func (s *Store) PutSite(ctx context.Context, site Site) error {
	if site.CreatedAt.IsZero() {
		site.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	origins := site.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "sites", `site_id, tenant_id, name, domain, public_key, secret_hash, secret_version,
		allowed_origins, retention_days, respect_dnt, created_at, deleted, version`,
		site.ID, site.TenantID, site.Name, site.Domain, site.PublicKey, site.SecretHash, site.SecretVersion,
		origins, site.RetentionDays, b2u(site.RespectDNT), site.CreatedAt, uint8(0), version())
	if err != nil {
		return fmt.Errorf("storage: put site: %w", err)
	}
	return nil
}

// SiteFilter narrows Sites; the zero value lists every site.
type SiteFilter struct {
	TenantID  uuid.UUID // zero: any tenant
	SiteID    uuid.UUID // zero: any site
	PublicKey string    // empty: any key
}

// Sites lists live sites matching f, by tenant then domain.
func (s *Store) Sites(ctx context.Context, f SiteFilter) ([]Site, error) {
	where, args := "deleted = 0", []any{}
	if f.TenantID != uuid.Nil {
		where += " AND tenant_id = ?"
		args = append(args, f.TenantID)
	}
	if f.SiteID != uuid.Nil {
		where += " AND site_id = ?"
		args = append(args, f.SiteID)
	}
	if f.PublicKey != "" {
		where += " AND public_key = ?"
		args = append(args, f.PublicKey)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT site_id, tenant_id, name, domain, public_key, secret_hash, secret_version,
		allowed_origins, retention_days, respect_dnt, created_at
		FROM sites FINAL WHERE `+where+` ORDER BY tenant_id, domain, site_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var dnt uint8
		if err := rows.Scan(&st.ID, &st.TenantID, &st.Name, &st.Domain, &st.PublicKey, &st.SecretHash, &st.SecretVersion,
			&st.AllowedOrigins, &st.RetentionDays, &dnt, &st.CreatedAt); err != nil {
			return nil, fmt.Errorf("storage: list sites: %w", err)
		}
		st.RespectDNT = dnt == 1
		out = append(out, st)
	}
	return out, rows.Err()
}

// SiteByID returns one site or ErrNotFound.
func (s *Store) SiteByID(ctx context.Context, id uuid.UUID) (Site, error) {
	sites, err := s.Sites(ctx, SiteFilter{SiteID: id})
	if err != nil {
		return Site{}, err
	}
	if len(sites) == 0 {
		return Site{}, ErrNotFound
	}
	return sites[0], nil
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.TS.IsZero() {
		e.TS = time.Now().UTC()
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "audit_log", "ts, tenant_id, actor, action, target, detail",
		e.TS, e.TenantID, e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("storage: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists a tenant's entries, newest first, at most limit.
func (s *Store) AuditLog(ctx context.Context, tenantID uuid.UUID, limit int) ([]AuditEntry, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT ts, tenant_id, actor, action, target, detail FROM audit_log WHERE tenant_id = ? ORDER BY ts DESC LIMIT ?", tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.TS, &e.TenantID, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("storage: audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
