// Package abuse owns traffic integrity: the page-load challenges and their
// signed tokens, the proof of work, replay protection, and fraud scoring
// (GIVT classes, SIVT score, reason codes).
//
// It also owns the Keyring, from which every secret Verity uses is derived
// (token keys, daily IP-prefix keys and visitor salts, sites' server-to-server
// secret keys), so that nodes sharing one master secret need no key
// distribution.
//
// The package depends on no other Verity package; collector and dashboard
// import it, and it never imports them.
package abuse
