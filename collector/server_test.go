package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestPprofListenMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		"0.0.0.0:6060": false, ":6060": false, "192.0.2.1:6060": false, "example.com:6060": false, "127.0.0.1": false,
	} {
		cfg := DefaultConfig()
		cfg.PprofListen = addr
		err := cfg.Validate()
		if (err == nil) != ok {
			t.Errorf("pprof_listen %q: err = %v, want ok = %v", addr, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "collector.pprof_listen") {
			t.Errorf("pprof_listen %q: error does not name the option: %v", addr, err)
		}
	}
}

func TestPprofHandlerServesProfiles(t *testing.T) {
	srv := httptest.NewServer(PprofHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", resp.StatusCode, body)
	}
}
