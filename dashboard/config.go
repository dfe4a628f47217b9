package dashboard

import (
	"errors"
	"fmt"
	"net"
	"net/url"
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
	// APIRequestsPerMinute caps the Stats API requests of one API token
	// per minute; more are answered 429 with Retry-After. Default 120.
	APIRequestsPerMinute int `yaml:"api_requests_per_minute"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8081", PublicURL: "http://localhost:8081", TrustedProxies: []string{}, APIRequestsPerMinute: 120}
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
	if c.APIRequestsPerMinute < 1 {
		errs = append(errs, fmt.Errorf("dashboard.api_requests_per_minute %d: want at least 1", c.APIRequestsPerMinute))
	}
	return errors.Join(errs...)
}
