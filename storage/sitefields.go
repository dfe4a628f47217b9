package storage

import (
	"fmt"
	"net/url"
	"strings"
)

// ValidDomain accepts a lower-case host name: labels of letters, digits and
// hyphens. The CLI and the dashboard check a site's domain with it.
func ValidDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.Trim(d, ".") != d {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// NormaliseOrigin checks an allowed origin, scheme://host[:port] where host
// may start with "*." to allow every subdomain, and returns it in the form
// the collector compares (lower-case host, no trailing slash).
func NormaliseOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], e.g. https://www.example.com", o)
	}
	host := strings.ToLower(u.Hostname())
	if !ValidDomain(strings.TrimPrefix(host, "*.")) && host != "localhost" {
		return "", fmt.Errorf("origin %q: %q is not a host name", o, host)
	}
	out := u.Scheme + "://" + host
	if p := u.Port(); p != "" {
		out += ":" + p
	}
	return out, nil
}
