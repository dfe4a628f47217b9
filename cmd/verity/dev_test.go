package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDevEndToEnd is what `make run` does: a project-managed ClickHouse,
// migrations, the demo tenant, login and site, every server, the URLs
// printed; and on cancel (Ctrl-C) everything stops, ClickHouse included.
func TestDevEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".verity")
	ports := map[string]int{}
	for _, name := range []string{"clickhouse", "collector", "dashboard", "demo"} {
		ports[name] = freePort(t)
	}
	args := []string{"verity", "dev", "--dir", dir,
		"--clickhouse-port", strconv.Itoa(ports["clickhouse"]), "--collector-port", strconv.Itoa(ports["collector"]),
		"--dashboard-port", strconv.Itoa(ports["dashboard"]), "--demo-port", strconv.Itoa(ports["demo"])}
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(stdout.String(), "Verity is running") {
		select {
		case err := <-done:
			t.Fatalf("dev ended early: %v\nstderr:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("dev did not print its URLs\nstderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	banner := stdout.String()
	m := regexp.MustCompile(`login: (\S+)\s+password: (\S+)`).FindStringSubmatch(banner)
	if m == nil || m[1] != demoEmail || len(m[2]) < 10 {
		t.Fatalf("banner lacks the demo login:\n%s", banner)
	}
	for _, want := range []string{
		"http://localhost:" + strconv.Itoa(ports["demo"]) + "/",
		"http://localhost:" + strconv.Itoa(ports["dashboard"]) + "/",
		"http://localhost:" + strconv.Itoa(ports["collector"]) + "/healthz",
		"127.0.0.1:" + strconv.Itoa(ports["clickhouse"]),
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %s:\n%s", want, banner)
		}
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := get("http://127.0.0.1:" + strconv.Itoa(ports["demo"]) + "/")
	tag := regexp.MustCompile(`<script defer src="http://localhost:` + strconv.Itoa(ports["collector"]) + `/s/v1.js" data-site="pk_[a-z0-9]+" data-localhost="true"></script>`)
	if status != 200 || !tag.MatchString(page) {
		t.Fatalf("demo page = %d, want it to embed the demo site's snippet tag:\n%s", status, page)
	}
	if status, body := get("http://127.0.0.1:" + strconv.Itoa(ports["collector"]) + "/readyz"); status != 200 || !strings.Contains(body, `"clickhouse":"ok"`) {
		t.Fatalf("collector /readyz = %d %s", status, body)
	}
	if status, _ := get("http://127.0.0.1:" + strconv.Itoa(ports["dashboard"]) + "/"); status != 200 {
		t.Fatalf("dashboard / = %d", status)
	}
	// The banner's login works: sign in through the form and see the demo site.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	dash := "http://127.0.0.1:" + strconv.Itoa(ports["dashboard"])
	resp, err := browser.Get(dash + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	if csrf == nil {
		t.Fatalf("login page has no CSRF field:\n%s", b)
	}
	resp, err = browser.PostForm(dash+"/login", url.Values{"_csrf": {csrf[1]}, "email": {m[1]}, "password": {m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/sites" || !strings.Contains(string(b), demoDomain) {
		t.Fatalf("signing in with the banner's login: %d at %s, want the sites page with %s:\n%s", resp.StatusCode, resp.Request.URL, demoDomain, b)
	}
	// The demo login is the local operator: the operator view lists the
	// demo tenant, as the banner says.
	resp, err = browser.Get(dash + "/operator")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<strong>"+demoTenant+"</strong>") || !strings.Contains(banner, "localhost:"+strconv.Itoa(ports["dashboard"])+"/operator   (the demo login is also an operator)") {
		t.Errorf("operator view for the demo login: %d, banner:\n%s", resp.StatusCode, banner)
	}
	for _, f := range []string{"secret", "demo-password", "verity.yaml"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v (mode %v), want a private file", f, err, info)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev returned %v after Ctrl-C\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev did not stop")
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ports["clickhouse"]), time.Second); err == nil {
		c.Close()
		t.Fatal("ClickHouse still accepts connections after dev stopped")
	}
	if !strings.Contains(stderr.String(), "Seeding the demo site with 30 days of demo history") {
		t.Errorf("stderr lacks the demo history step:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "Stopping ClickHouse") {
		t.Errorf("stderr lacks the shutdown steps:\n%s", stderr.String())
	}
}
