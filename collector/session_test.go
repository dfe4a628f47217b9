package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// The pooled MAC must give what a fresh HMAC gives, whatever salt the
// pooled one was keyed with before (days change; goroutines interleave).
func TestVisitorIDPooledEqualsFresh(t *testing.T) {
	fresh := func(salt []byte, site uuid.UUID, ip netip.Addr, ua string) uint64 {
		m := hmac.New(sha256.New, salt)
		m.Write(site[:])
		b := ip.As16()
		m.Write(b[:])
		m.Write([]byte(ua))
		return binary.LittleEndian.Uint64(m.Sum(nil))
	}
	salts := [][]byte{[]byte("salt of monday, thirty-two bytes"), []byte("salt of tuesday, thirty-two byte")}
	site := uuid.New()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				salt := salts[(i+g)%2]
				ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
				ua := "UA " + string(rune('a'+i%26))
				if got, want := visitorID(salt, site, ip, ua), fresh(salt, site, ip, ua); got != want {
					t.Errorf("visitorID(salt %d, %s, %q) = %x, want %x", (i+g)%2, ip, ua, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if visitorID(salts[0], site, netip.MustParseAddr("203.0.113.1"), "x") == visitorID(salts[1], site, netip.MustParseAddr("203.0.113.1"), "x") {
		t.Error("the salt does not change the id")
	}
}
