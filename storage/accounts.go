package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Session is a signed-in browser. The token itself is only in the cookie;
// the store keeps its hash, so a leaked table cannot be replayed.
type Session struct {
	Hash      string // hex SHA-256 of the cookie's token
	UserID    uuid.UUID
	CreatedAt time.Time
	ExpiresAt time.Time
	// Pending marks a sign-in that passed the password and still needs
	// its two-factor code: it grants nothing else.
	Pending bool
	Revoked bool
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	return s.putSession(ctx, sess)
}

func (s *Store) putSession(ctx context.Context, sess Session) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "sessions", "session_hash, user_id, created_at, expires_at, pending, revoked, version",
		sess.Hash, sess.UserID, sess.CreatedAt.UTC().Truncate(time.Second), sess.ExpiresAt.UTC().Truncate(time.Second), b2u(sess.Pending), b2u(sess.Revoked), version())
	if err != nil {
		return fmt.Errorf("storage: put session: %w", err)
	}
	return nil
}

// SessionByHash returns the live session with that hash (not revoked, not
// expired at now) or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error) {
	sessions, err := s.sessions(ctx, "session_hash = ? AND revoked = 0 AND expires_at > ?", hash, now.UTC())
	if err != nil {
		return Session{}, err
	}
	if len(sessions) == 0 {
		return Session{}, ErrNotFound
	}
	return sessions[0], nil
}

// RevokeSession ends one session; revoking an unknown one is no error.
func (s *Store) RevokeSession(ctx context.Context, hash string) error {
	sessions, err := s.sessions(ctx, "session_hash = ? AND revoked = 0", hash)
	if err != nil {
		return err
	}
	return s.revokeSessions(ctx, sessions)
}

// RevokeUserSessions ends every session of the user except keep (a hash;
// empty ends them all) and returns how many it ended.
func (s *Store) RevokeUserSessions(ctx context.Context, userID uuid.UUID, keep string, now time.Time) (int, error) {
	sessions, err := s.sessions(ctx, "user_id = ? AND revoked = 0 AND expires_at > ? AND session_hash != ?", userID, now.UTC(), keep)
	if err != nil {
		return 0, err
	}
	return len(sessions), s.revokeSessions(ctx, sessions)
}

func (s *Store) revokeSessions(ctx context.Context, sessions []Session) error {
	for _, sess := range sessions {
		sess.Revoked = true
		if err := s.putSession(ctx, sess); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) sessions(ctx context.Context, where string, args ...any) ([]Session, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT session_hash, user_id, created_at, expires_at, pending, revoked FROM sessions FINAL WHERE "+where+" ORDER BY created_at, session_hash", args...)
	if err != nil {
		return nil, fmt.Errorf("storage: get sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var sess Session
		var pending, revoked uint8
		if err := rows.Scan(&sess.Hash, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &pending, &revoked); err != nil {
			return nil, fmt.Errorf("storage: get sessions: %w", err)
		}
		sess.Pending, sess.Revoked = pending == 1, revoked == 1
		out = append(out, sess)
	}
	return out, rows.Err()
}

// Member is a membership with the member's user record.
type Member struct {
	Membership
	Email string
	Name  string
}

// MembersOfTenant lists a tenant's members, by email.
func (s *Store) MembersOfTenant(ctx context.Context, tenantID uuid.UUID) ([]Member, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	// Two queries rather than a JOIN: 18.16 needs ANY/ALL strictness and
	// FINAL on both sides, and the tables are small.
	rows, err := s.db.Query(ctx, "SELECT tenant_id, user_id, role, created_at FROM memberships FINAL WHERE tenant_id = ? AND deleted = 0", tenantID)
	if err != nil {
		return nil, fmt.Errorf("storage: list members: %w", err)
	}
	byUser := map[uuid.UUID]Membership{}
	var ids []string
	for rows.Next() {
		var m Membership
		var role string
		if err := rows.Scan(&m.TenantID, &m.UserID, &role, &m.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: list members: %w", err)
		}
		m.Role = Role(role)
		byUser[m.UserID] = m
		ids = append(ids, m.UserID.String())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: list members: %w", err)
	}
	if len(ids) == 0 {
		return []Member{}, nil
	}
	rows, err = s.db.Query(ctx, "SELECT user_id, email, name FROM users FINAL WHERE has(?, toString(user_id)) ORDER BY email, user_id", ids)
	if err != nil {
		return nil, fmt.Errorf("storage: list members: %w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		var id uuid.UUID
		if err := rows.Scan(&id, &m.Email, &m.Name); err != nil {
			return nil, fmt.Errorf("storage: list members: %w", err)
		}
		m.Membership = byUser[id]
		out = append(out, m)
	}
	return out, rows.Err()
}

// RemoveMembership removes the user from the tenant.
func (s *Store) RemoveMembership(ctx context.Context, tenantID, userID uuid.UUID) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "memberships", "tenant_id, user_id, role, created_at, deleted, version",
		tenantID, userID, string(RoleViewer), time.Now().UTC().Truncate(time.Second), uint8(1), version())
	if err != nil {
		return fmt.Errorf("storage: remove membership: %w", err)
	}
	return nil
}

// InviteState is where an invitation stands.
type InviteState string

// Invitation states.
const (
	InvitePending  InviteState = "pending"
	InviteAccepted InviteState = "accepted"
	InviteRevoked  InviteState = "revoked"
)

// Invite asks someone to join a tenant with a role. The link carries a
// random token; the store keeps its hash.
type Invite struct {
	ID        uuid.UUID
	Hash      string // hex SHA-256 of the link's token
	TenantID  uuid.UUID
	Email     string
	Role      Role
	CreatedBy uuid.UUID
	CreatedAt time.Time
	ExpiresAt time.Time
	State     InviteState
}

// PutInvite stores a new invite or a new state of one.
func (s *Store) PutInvite(ctx context.Context, inv Invite) error {
	if !inv.Role.Valid() {
		return fmt.Errorf("storage: unknown role %q", inv.Role)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "invites", "invite_id, invite_hash, tenant_id, email, role, created_by, created_at, expires_at, state, version",
		inv.ID, inv.Hash, inv.TenantID, inv.Email, string(inv.Role), inv.CreatedBy,
		inv.CreatedAt.UTC().Truncate(time.Second), inv.ExpiresAt.UTC().Truncate(time.Second), string(inv.State), version())
	if err != nil {
		return fmt.Errorf("storage: put invite: %w", err)
	}
	return nil
}

// PendingInviteByHash returns the pending, unexpired invite with that hash
// or ErrNotFound.
func (s *Store) PendingInviteByHash(ctx context.Context, hash string, now time.Time) (Invite, error) {
	invs, err := s.invites(ctx, "invite_hash = ? AND state = 'pending' AND expires_at > ?", hash, now.UTC())
	if err != nil {
		return Invite{}, err
	}
	if len(invs) == 0 {
		return Invite{}, ErrNotFound
	}
	return invs[0], nil
}

// PendingInvites lists a tenant's pending, unexpired invites.
func (s *Store) PendingInvites(ctx context.Context, tenantID uuid.UUID, now time.Time) ([]Invite, error) {
	return s.invites(ctx, "tenant_id = ? AND state = 'pending' AND expires_at > ?", tenantID, now.UTC())
}

// InviteByID returns one of a tenant's invites or ErrNotFound.
func (s *Store) InviteByID(ctx context.Context, tenantID, id uuid.UUID) (Invite, error) {
	invs, err := s.invites(ctx, "tenant_id = ? AND invite_id = ?", tenantID, id)
	if err != nil {
		return Invite{}, err
	}
	if len(invs) == 0 {
		return Invite{}, ErrNotFound
	}
	return invs[0], nil
}

func (s *Store) invites(ctx context.Context, where string, args ...any) ([]Invite, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT invite_id, invite_hash, tenant_id, email, role, created_by, created_at, expires_at, state
		FROM invites FINAL WHERE `+where+` ORDER BY created_at, invite_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: get invites: %w", err)
	}
	defer rows.Close()
	out := []Invite{}
	for rows.Next() {
		var inv Invite
		var role, state string
		if err := rows.Scan(&inv.ID, &inv.Hash, &inv.TenantID, &inv.Email, &role, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt, &state); err != nil {
			return nil, fmt.Errorf("storage: get invites: %w", err)
		}
		inv.Role, inv.State = Role(role), InviteState(state)
		out = append(out, inv)
	}
	return out, rows.Err()
}

// APIToken is a read-only stats API credential of a tenant, limited to some
// of its sites. The token is shown once; the store keeps its hash.
type APIToken struct {
	ID        uuid.UUID
	TenantID  uuid.UUID
	Name      string
	Hash      string // hex SHA-256 of the token
	SiteIDs   []uuid.UUID
	CreatedBy uuid.UUID
	CreatedAt time.Time
	Revoked   bool
}

// PutAPIToken stores a new token or a new version of one (revoking it).
func (s *Store) PutAPIToken(ctx context.Context, t APIToken) error {
	sites := make([]string, len(t.SiteIDs))
	for i, id := range t.SiteIDs {
		sites[i] = id.String()
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "api_tokens", "token_id, tenant_id, name, token_hash, site_ids, created_by, created_at, revoked, version",
		t.ID, t.TenantID, t.Name, t.Hash, sites, t.CreatedBy, t.CreatedAt.UTC().Truncate(time.Second), b2u(t.Revoked), version())
	if err != nil {
		return fmt.Errorf("storage: put api token: %w", err)
	}
	return nil
}

// APITokens lists a tenant's live tokens, newest first.
func (s *Store) APITokens(ctx context.Context, tenantID uuid.UUID) ([]APIToken, error) {
	return s.apiTokens(ctx, "tenant_id = ? AND revoked = 0", tenantID)
}

// APITokenByID returns one of a tenant's live tokens or ErrNotFound.
func (s *Store) APITokenByID(ctx context.Context, tenantID, id uuid.UUID) (APIToken, error) {
	return s.oneAPIToken(s.apiTokens(ctx, "tenant_id = ? AND token_id = ? AND revoked = 0", tenantID, id))
}

// APITokenByHash returns the live token with that hash or ErrNotFound; the
// stats API authenticates with it.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	return s.oneAPIToken(s.apiTokens(ctx, "token_hash = ? AND revoked = 0", hash))
}

func (s *Store) oneAPIToken(ts []APIToken, err error) (APIToken, error) {
	if err != nil {
		return APIToken{}, err
	}
	if len(ts) == 0 {
		return APIToken{}, ErrNotFound
	}
	return ts[0], nil
}

func (s *Store) apiTokens(ctx context.Context, where string, args ...any) ([]APIToken, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT token_id, tenant_id, name, token_hash, arrayMap(x -> toString(x), site_ids), created_by, created_at, revoked
		FROM api_tokens FINAL WHERE `+where+` ORDER BY created_at DESC, token_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: get api tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var sites []string
		var revoked uint8
		if err := rows.Scan(&t.ID, &t.TenantID, &t.Name, &t.Hash, &sites, &t.CreatedBy, &t.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("storage: get api tokens: %w", err)
		}
		for _, id := range sites {
			u, err := uuid.Parse(id)
			if err != nil {
				return nil, fmt.Errorf("storage: api token %s: site id %q: %w", t.ID, id, err)
			}
			t.SiteIDs = append(t.SiteIDs, u)
		}
		t.Revoked = revoked == 1
		out = append(out, t)
	}
	return out, rows.Err()
}
