package dashboard

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
)

// Config is the dashboard's configuration.
type Config struct {
	// Listen is the dashboard's address. Default "127.0.0.1:8081".
	Listen string `yaml:"listen"`
	// PublicURL is where people reach the dashboard; an https URL turns on
	// HSTS and Secure-only cookies. Default "http://localhost:8081".
	PublicURL string `yaml:"public_url"`
	// TrustedProxies are the CIDRs or IPs of reverse proxies whose
	// X-Forwarded-For is believed (sign-in throttling is per client
	// network). Default none: the peer address is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Operators are the email addresses of the users who may open the
	// operator view (/operator): every tenant with its usage, creating
	// tenants and inviting their first owners. A configured role, never a
	// tenant one; it shows no tenant's statistics. Default none.
	Operators []string `yaml:"operators"`
	// APIRequestsPerMinute caps the Stats API requests of one API token
	// per minute; more are answered 429 with Retry-After. Default 120.
	APIRequestsPerMinute int `yaml:"api_requests_per_minute"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8081", PublicURL: "http://localhost:8081", TrustedProxies: []string{}, Operators: []string{}, APIRequestsPerMinute: 120}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("dashboard.listen %q: want host:port", c.Listen))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("dashboard.public_url %q: want an http(s) URL", c.PublicURL))
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("dashboard.trusted_proxies: %q is neither an IP nor a CIDR", p))
			}
		}
	}
	errs = append(errs, validateOperators(c.Operators)...)
	if c.APIRequestsPerMinute < 1 {
		errs = append(errs, fmt.Errorf("dashboard.api_requests_per_minute %d: want at least 1", c.APIRequestsPerMinute))
	}
	return errors.Join(errs...)
}

// validateOperators checks that each operator is one bare email address,
// listed once (emails compare lower-case).
func validateOperators(operators []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, o := range operators {
		email := normaliseEmail(o)
		switch {
		case !validEmail(email):
			errs = append(errs, fmt.Errorf("dashboard.operators: %q is not an email address (write the bare address, e.g. ops@example.com)", o))
		case seen[email]:
			errs = append(errs, fmt.Errorf("dashboard.operators: %q is listed twice", o))
		}
		seen[email] = true
	}
	return errs
}

// isOperator reports whether email (as stored: lower-case) is an operator's.
func (c Config) isOperator(email string) bool {
	return slices.ContainsFunc(c.Operators, func(o string) bool { return normaliseEmail(o) == email })
}

// validEmail reports whether s is one bare email address, as people type
// it into forms (no display name, no angle brackets), of at most 254 bytes.
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && len(s) <= 254
}
