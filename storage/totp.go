package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TOTP is a user's time-based one-time-password key (RFC 6238).
type TOTP struct {
	UserID uuid.UUID
	// Secret is the base32 key the authenticator app holds: a secret.
	Secret string
	// Enabled is set once the user confirmed a code; before that the key
	// is being set up and sign-in does not ask for codes.
	Enabled bool
	// LastStep is the highest 30-second step a code was accepted for; a
	// code for it or an earlier step is refused, so a code works once.
	LastStep  uint64
	CreatedAt time.Time
}

// PutTOTP stores a user's key or a new state of it.
func (s *Store) PutTOTP(ctx context.Context, t TOTP) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "totp", "user_id, secret, enabled, last_step, created_at, version",
		t.UserID, t.Secret, b2u(t.Enabled), t.LastStep, t.CreatedAt.UTC().Truncate(time.Second), version())
	if err != nil {
		return fmt.Errorf("storage: put totp: %w", err)
	}
	return nil
}

// TOTPOf returns the user's key or ErrNotFound.
func (s *Store) TOTPOf(ctx context.Context, userID uuid.UUID) (TOTP, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, "SELECT user_id, secret, enabled, last_step, created_at FROM totp FINAL WHERE user_id = ? LIMIT 1", userID)
	if err != nil {
		return TOTP{}, fmt.Errorf("storage: get totp: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return TOTP{}, fmt.Errorf("storage: get totp: %w", err)
		}
		return TOTP{}, ErrNotFound
	}
	var t TOTP
	var enabled uint8
	if err := rows.Scan(&t.UserID, &t.Secret, &enabled, &t.LastStep, &t.CreatedAt); err != nil {
		return TOTP{}, fmt.Errorf("storage: get totp: %w", err)
	}
	t.Enabled = enabled == 1
	return t, nil
}
