package storage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestAccounts(t *testing.T) {
	out, err := exerciseAccounts(chtest.Store(t), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(wantAccounts) {
		t.Fatalf("got %d answers, want %d:\n%q", len(out), len(wantAccounts), out)
	}
	for i := range out {
		if out[i] != wantAccounts[i] {
			t.Errorf("answer %d:\n got %s\nwant %s", i, out[i], wantAccounts[i])
		}
	}
}

// wantAccounts are exerciseAccounts' answers, the same on every engine.
var wantAccounts = []string{
	"session live: true",
	"other user's session: not found",
	"expired session: not found",
	"revoked one: not found",
	"revoke all but kept: 2",
	"kept live: true",
	"others ended: not found, not found",
	"members: [ann@acme.example owner] [bob@acme.example viewer]",
	"members after removal: [ann@acme.example owner]",
	"invite: bob@acme.example admin pending",
	"expired invite: not found",
	"pending invites: 1",
	"accepted invite: not found",
	"invite by id: accepted",
	"other tenant's invite by id: not found",
	"tokens: [ci 2 sites]",
	"token by hash: ci",
	"other tenant's token by id: not found",
	"revoked token by hash: not found",
	"tokens after revoke: 0",
	"pending session: true",
	"no totp: not found",
	"totp: JBSWY3DPEHPK3PXP true 42",
}

// exerciseAccounts runs every account query on st with fixed data and
// returns the answers as strings (see wantAccounts). The chDB build runs it
// on ClickHouse 26.x too (accounts_chdb_test.go).
func exerciseAccounts(st *storage.Store, now time.Time) ([]string, error) {
	ctx := context.Background()
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	found := func(err error) string {
		switch {
		case err == nil:
			return "found"
		case errors.Is(err, storage.ErrNotFound):
			return "not found"
		}
		return err.Error()
	}
	ann := uuid.MustParse("00000000-0000-0000-0000-00000000a001")
	bob := uuid.MustParse("00000000-0000-0000-0000-00000000b001")

	for _, s := range []storage.Session{
		{Hash: "h-live", UserID: ann, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Hash: "h-other", UserID: bob, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Hash: "h-expired", UserID: ann, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		{Hash: "h-second", UserID: ann, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Hash: "h-third", UserID: ann, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{Hash: "h-revoke", UserID: ann, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := st.CreateSession(ctx, s); err != nil {
			return nil, err
		}
	}
	s, err := st.SessionByHash(ctx, "h-live", now)
	if err != nil {
		return nil, err
	}
	add("session live: %v", s.UserID == ann && s.ExpiresAt.Equal(now.Add(time.Hour)))
	if err := st.RevokeSession(ctx, "h-other"); err != nil {
		return nil, err
	}
	_, err = st.SessionByHash(ctx, "h-other", now)
	add("other user's session: %s", found(err))
	_, err = st.SessionByHash(ctx, "h-expired", now)
	add("expired session: %s", found(err))
	if err := st.RevokeSession(ctx, "h-revoke"); err != nil {
		return nil, err
	}
	_, err = st.SessionByHash(ctx, "h-revoke", now)
	add("revoked one: %s", found(err))
	n, err := st.RevokeUserSessions(ctx, ann, "h-live", now)
	if err != nil {
		return nil, err
	}
	add("revoke all but kept: %d", n)
	_, err = st.SessionByHash(ctx, "h-live", now)
	add("kept live: %v", err == nil)
	_, err2 := st.SessionByHash(ctx, "h-second", now)
	_, err3 := st.SessionByHash(ctx, "h-third", now)
	add("others ended: %s, %s", found(err2), found(err3))

	tenant, err := st.CreateTenant(ctx, "Acme")
	if err != nil {
		return nil, err
	}
	other, err := st.CreateTenant(ctx, "Other")
	if err != nil {
		return nil, err
	}
	var users []storage.User
	for _, email := range []string{"bob@acme.example", "ann@acme.example"} {
		u, err := st.CreateUser(ctx, email, "", "x")
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	bobU, annU := users[0], users[1]
	for _, m := range []storage.Membership{
		{TenantID: tenant.ID, UserID: annU.ID, Role: storage.RoleOwner},
		{TenantID: tenant.ID, UserID: bobU.ID, Role: storage.RoleViewer},
		{TenantID: other.ID, UserID: bobU.ID, Role: storage.RoleOwner},
	} {
		if err := st.SetMembership(ctx, m); err != nil {
			return nil, err
		}
	}
	members := func(label string) error {
		ms, err := st.MembersOfTenant(ctx, tenant.ID)
		if err != nil {
			return err
		}
		var list []string
		for _, m := range ms {
			list = append(list, fmt.Sprintf("[%s %s]", m.Email, m.Role))
		}
		add("%s: %s", label, joinSpace(list))
		return nil
	}
	if err := members("members"); err != nil {
		return nil, err
	}
	if err := st.RemoveMembership(ctx, tenant.ID, bobU.ID); err != nil {
		return nil, err
	}
	if err := members("members after removal"); err != nil {
		return nil, err
	}

	inv := storage.Invite{ID: uuid.MustParse("00000000-0000-0000-0000-0000000001a1"), Hash: "inv-1", TenantID: tenant.ID,
		Email: "bob@acme.example", Role: storage.RoleAdmin, CreatedBy: annU.ID, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour), State: storage.InvitePending}
	expired := inv
	expired.ID, expired.Hash, expired.ExpiresAt = uuid.MustParse("00000000-0000-0000-0000-0000000001a2"), "inv-2", now.Add(-time.Minute)
	for _, i := range []storage.Invite{inv, expired} {
		if err := st.PutInvite(ctx, i); err != nil {
			return nil, err
		}
	}
	got, err := st.PendingInviteByHash(ctx, "inv-1", now)
	if err != nil {
		return nil, err
	}
	add("invite: %s %s %s", got.Email, got.Role, got.State)
	_, err = st.PendingInviteByHash(ctx, "inv-2", now)
	add("expired invite: %s", found(err))
	pending, err := st.PendingInvites(ctx, tenant.ID, now)
	if err != nil {
		return nil, err
	}
	add("pending invites: %d", len(pending))
	got.State = storage.InviteAccepted
	if err := st.PutInvite(ctx, got); err != nil {
		return nil, err
	}
	_, err = st.PendingInviteByHash(ctx, "inv-1", now)
	add("accepted invite: %s", found(err))
	got, err = st.InviteByID(ctx, tenant.ID, inv.ID)
	if err != nil {
		return nil, err
	}
	add("invite by id: %s", got.State)
	_, err = st.InviteByID(ctx, other.ID, inv.ID)
	add("other tenant's invite by id: %s", found(err))

	siteA, siteB := uuid.MustParse("00000000-0000-0000-0000-00000000c001"), uuid.MustParse("00000000-0000-0000-0000-00000000c002")
	tok := storage.APIToken{ID: uuid.MustParse("00000000-0000-0000-0000-00000000d001"), TenantID: tenant.ID, Name: "ci", Hash: "tok-1",
		SiteIDs: []uuid.UUID{siteA, siteB}, CreatedBy: annU.ID, CreatedAt: now}
	if err := st.PutAPIToken(ctx, tok); err != nil {
		return nil, err
	}
	toks, err := st.APITokens(ctx, tenant.ID)
	if err != nil {
		return nil, err
	}
	var list []string
	for _, t := range toks {
		list = append(list, fmt.Sprintf("[%s %d sites]", t.Name, len(t.SiteIDs)))
		if !reflect.DeepEqual(t.SiteIDs, tok.SiteIDs) {
			return nil, fmt.Errorf("token sites = %v, want %v", t.SiteIDs, tok.SiteIDs)
		}
	}
	add("tokens: %s", joinSpace(list))
	byHash, err := st.APITokenByHash(ctx, "tok-1")
	if err != nil {
		return nil, err
	}
	add("token by hash: %s", byHash.Name)
	_, err = st.APITokenByID(ctx, other.ID, tok.ID)
	add("other tenant's token by id: %s", found(err))
	tok.Revoked = true
	if err := st.PutAPIToken(ctx, tok); err != nil {
		return nil, err
	}
	_, err = st.APITokenByHash(ctx, "tok-1")
	add("revoked token by hash: %s", found(err))
	toks, err = st.APITokens(ctx, tenant.ID)
	if err != nil {
		return nil, err
	}
	add("tokens after revoke: %d", len(toks))

	if err := st.CreateSession(ctx, storage.Session{Hash: "h-pending", UserID: ann, CreatedAt: now, ExpiresAt: now.Add(time.Minute), Pending: true}); err != nil {
		return nil, err
	}
	s, err = st.SessionByHash(ctx, "h-pending", now)
	if err != nil {
		return nil, err
	}
	add("pending session: %v", s.Pending)
	_, err = st.TOTPOf(ctx, ann)
	add("no totp: %s", found(err))
	for _, k := range []storage.TOTP{
		{UserID: ann, Secret: "OLDSECRET", CreatedAt: now},
		{UserID: ann, Secret: "JBSWY3DPEHPK3PXP", Enabled: true, LastStep: 42, CreatedAt: now},
	} {
		if err := st.PutTOTP(ctx, k); err != nil {
			return nil, err
		}
	}
	k, err := st.TOTPOf(ctx, ann)
	if err != nil {
		return nil, err
	}
	add("totp: %s %v %d", k.Secret, k.Enabled, k.LastStep)
	return out, nil
}

func joinSpace(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}
