package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The curl + openssl recipe in docs/protocol.md must produce the signature
// the collector checks.
func TestS2SSignatureMatchesOpenSSLRecipe(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not installed; the documented recipe cannot be checked")
	}
	secret, ts, nonce := "sk_test-secret", "1767225600", "0123456789abcdef0123456789abcdef"
	body := []byte(`{"events":[{"name":"purchase","url":"https://shop.example/checkout","value":49.9}]}`)
	sum := sha256.Sum256(body)
	msg := fmt.Sprintf("POST\n/api/v1/events\n%s\n%s\n%s", ts, nonce, hex.EncodeToString(sum[:]))
	cmd := exec.Command(openssl, "dgst", "-sha256", "-hmac", secret, "-hex")
	cmd.Stdin = strings.NewReader(msg)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(out))
	got := "v1=" + fields[len(fields)-1]
	if want := S2SSignature(secret, "POST", "/api/v1/events", ts, nonce, body); got != want {
		t.Fatalf("openssl recipe gives %s, collector expects %s", got, want)
	}
}
