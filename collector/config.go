package collector

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/verityhq/verity/abuse"
)

// Config is the collector's configuration.
type Config struct {
	// Listen is the collector's address. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// PublicURL is where browsers reach the collector; it goes into the
	// snippet tag. Default "http://localhost:8080".
	PublicURL string `yaml:"public_url"`
	// TrustedProxies are the CIDRs or IPs of reverse proxies whose
	// X-Forwarded-For is believed. Default none: the peer address is the
	// client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// BodyLimit caps a request body, bytes. Default 65536.
	BodyLimit int `yaml:"body_limit"`
	// GeoIPDB is a GeoLite2/GeoIP2 City or Country database (.mmdb) for
	// country, region and city. Default empty: no geo enrichment.
	GeoIPDB string `yaml:"geoip_db"`
	// ASNDB is a GeoLite2-ASN (or GeoIP2-ISP) database: hosting-provider
	// networks are a fraud signal. Default empty: none.
	ASNDB string `yaml:"asn_db"`
	// AnonymousIPDB is a GeoIP2-Anonymous-IP database: VPNs, Tor, public
	// and residential proxies, hosting. Default empty: none.
	AnonymousIPDB string `yaml:"anonymous_ip_db"`
	// HostingCIDRs is a file of data-centre networks (one CIDR or IP a
	// line, # comments), re-read when it changes. Default empty: none.
	HostingCIDRs string `yaml:"hosting_cidrs"`
	// TorExits is a file of Tor exit addresses (one IP a line), re-read
	// when it changes. Default empty: none.
	TorExits string `yaml:"tor_exits"`
	// UACacheSize is how many parsed user agents are kept. Default 10000.
	UACacheSize int `yaml:"ua_cache_size"`
	// TokenTTL is how long a page-load token is valid. Default 30m.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// ChallengeRate caps page-load challenges per client network (/24 for
	// IPv4, /48 for IPv6) per minute; event batches are capped at ten times
	// that. Over the cap: 429 with Retry-After. 0 turns the limit off.
	// Default 120.
	ChallengeRate int `yaml:"challenge_rate"`
	// PprofListen serves Go's profiler (/debug/pprof/) on this loopback
	// address, for `go tool pprof` during a load test; never on the public
	// listener. Default empty: off.
	PprofListen string `yaml:"pprof_listen"`
	// SiteRefresh is how often sites (keys, allowed origins) are reloaded
	// from ClickHouse; a change takes effect within it. Default 5s.
	SiteRefresh time.Duration `yaml:"site_refresh"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", PublicURL: "http://localhost:8080", BodyLimit: 64 << 10,
		UACacheSize: 10_000, TokenTTL: 30 * time.Minute, SiteRefresh: 5 * time.Second, ChallengeRate: 120}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("collector.listen %q: want host:port", c.Listen))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("collector.public_url %q: want an http(s) URL", c.PublicURL))
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("collector.trusted_proxies: %q is neither an IP nor a CIDR", p))
			}
		}
	}
	if c.BodyLimit < 1024 || c.BodyLimit > 1<<20 {
		errs = append(errs, errors.New("collector.body_limit: must be between 1024 and 1048576 bytes"))
	}
	if c.UACacheSize < 1 {
		errs = append(errs, errors.New("collector.ua_cache_size: must be positive"))
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > abuse.MaxTokenTTL {
		errs = append(errs, fmt.Errorf("collector.token_ttl: must be between 1m and %s", abuse.MaxTokenTTL))
	}
	if c.ChallengeRate < 0 {
		errs = append(errs, errors.New("collector.challenge_rate: must be 0 (off) or positive"))
	}
	if c.PprofListen != "" && !loopback(c.PprofListen) {
		errs = append(errs, fmt.Errorf("collector.pprof_listen %q: want a loopback host:port (127.0.0.1:6060, [::1]:6060, localhost:6060)", c.PprofListen))
	}
	if c.SiteRefresh < time.Second {
		errs = append(errs, errors.New("collector.site_refresh: must be at least 1s"))
	}
	return errors.Join(errs...)
}

// loopback reports whether hostport names a loopback address: the profiler
// shows memory contents and must not be reachable from outside.
func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
