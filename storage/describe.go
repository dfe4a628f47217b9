package storage

import (
	"fmt"
	"time"
)

// Describe names the rule as audit entries and messages do:
// "deny asn 16509 (note)".
func (r SiteRule) Describe() string {
	s := r.Action + " " + r.Kind + " " + r.Value
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return s
}

// Describe names the quarantine as audit entries and messages do:
// "asn 16509 from 2026-03-10T14:00:00Z to 2026-03-10T16:00:00Z (note)".
func (q Quarantine) Describe() string {
	s := fmt.Sprintf("%s %s from %s to %s", q.Kind, q.Value, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	if q.Note != "" {
		s += " (" + q.Note + ")"
	}
	return s
}
