package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/script"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// cli runs the program as a user would, against a real ClickHouse.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	cfg := chtest.Config(t)
	return &cli{t: t, env: map[string]string{
		"VERITY_CLICKHOUSE_ADDR":     cfg.Addr,
		"VERITY_CLICKHOUSE_DATABASE": cfg.Database,
		"VERITY_SECRET":              testSecret,
	}}
}

func (c *cli) run(stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"verity"}, args...), func(k string) string { return c.env[k] },
		strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func (c *cli) mustRun(stdin string, args ...string) (stdout, stderr string) {
	c.t.Helper()
	stdout, stderr, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("verity %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

func (c *cli) store() *storage.Store {
	c.t.Helper()
	cfg := storage.DefaultConfig()
	cfg.Addr, cfg.Database = c.env["VERITY_CLICKHOUSE_ADDR"], c.env["VERITY_CLICKHOUSE_DATABASE"]
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

func TestAdministrationEndToEnd(t *testing.T) {
	c := newCLI(t)
	_, stderr := c.mustRun("", "migrate")
	all, err := storage.Migrations(storage.MinSupported)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, fmt.Sprintf("applied %d migrations", len(all))) || !strings.Contains(stderr, "0001_metadata") {
		t.Fatalf("migrate output: %q", stderr)
	}
	if _, stderr = c.mustRun("", "migrate"); !strings.Contains(stderr, "up to date") {
		t.Fatalf("second migrate output: %q", stderr)
	}

	out, _ := c.mustRun("", "tenant", "create", "--name", "Acme GmbH", "--json")
	var tenant struct {
		ID   string `json:"tenant_id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &tenant); err != nil || tenant.Name != "Acme GmbH" || uuid.Validate(tenant.ID) != nil {
		t.Fatalf("tenant create --json = %q (%v)", out, err)
	}
	out, _ = c.mustRun("", "tenant", "list")
	if !strings.Contains(out, tenant.ID) || !strings.Contains(out, "Acme GmbH") {
		t.Fatalf("tenant list = %q", out)
	}

	out, _ = c.mustRun("correct horse battery\n", "user", "create", "--email", "Ops@Acme.example", "--tenant", tenant.ID, "--role", "admin", "--json")
	var user map[string]string
	if err := json.Unmarshal([]byte(out), &user); err != nil || user["email"] != "ops@acme.example" || user["role"] != "admin" || user["tenant_id"] != tenant.ID {
		t.Fatalf("user create --json = %q (%v)", out, err)
	}
	st := c.store()
	u, err := st.UserByEmail(context.Background(), "ops@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify("correct horse battery", u.PasswordHash); !ok || err != nil {
		t.Fatalf("stored hash does not verify the password read from stdin: %v", err)
	}
	if strings.Contains(u.PasswordHash, "correct horse") {
		t.Fatal("password stored in clear")
	}
	ms, err := st.MembershipsOfUser(context.Background(), u.ID)
	if err != nil || len(ms) != 1 || ms[0].Role != storage.RoleAdmin || ms[0].TenantID.String() != tenant.ID {
		t.Fatalf("memberships = %+v (%v)", ms, err)
	}
	if _, _, err := c.run("correct horse battery\n", "user", "create", "--email", "ops@acme.example"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate email: err = %v", err)
	}
	if _, _, err := c.run("short\n", "user", "create", "--email", "x@acme.example"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if _, _, err := c.run("", "user", "create", "--email", "y@acme.example"); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("empty stdin: err = %v", err)
	}

	out, _ = c.mustRun("", "site", "create", "--tenant", tenant.ID, "--domain", "Acme.Example", "--origin", "https://www.acme.example/", "--json")
	var site siteOut
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatalf("site create --json = %q (%v)", out, err)
	}
	if !strings.HasPrefix(site.PublicKey, "pk_") || !strings.HasPrefix(site.SecretKey, "sk_") || site.Domain != "acme.example" ||
		len(site.AllowedOrigins) != 1 || site.AllowedOrigins[0] != "https://www.acme.example" ||
		site.Snippet != `<script defer src="http://localhost:8080/s/v1.js" data-site="`+site.PublicKey+`"></script>` {
		t.Fatalf("site create --json = %+v", site)
	}
	stored, err := st.SiteByID(context.Background(), uuid.MustParse(site.ID))
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != abuse.SecretHash(site.SecretKey) || strings.Contains(out, stored.SecretHash) {
		t.Fatalf("stored secret hash %q does not match the printed secret key", stored.SecretHash)
	}
	out, _ = c.mustRun("", "site", "list", "--tenant", tenant.ID)
	if !strings.Contains(out, site.PublicKey) || strings.Contains(out, site.SecretKey) {
		t.Fatalf("site list = %q: want the public key and never the secret", out)
	}

	out, _ = c.mustRun("", "site", "rotate-key", "--site", site.ID, "--secret", "--json")
	var rotated siteOut
	if err := json.Unmarshal([]byte(out), &rotated); err != nil {
		t.Fatal(err)
	}
	if rotated.SecretKey == site.SecretKey || rotated.SecretVersion != 2 || rotated.PublicKey != site.PublicKey {
		t.Fatalf("rotate --secret: %+v (before %+v)", rotated, site)
	}
	out, _ = c.mustRun("", "site", "rotate-key", "--site", site.ID, "--json")
	rotated = siteOut{}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil {
		t.Fatal(err)
	}
	if rotated.PublicKey == site.PublicKey || rotated.SecretKey != "" {
		t.Fatalf("rotate public key: %+v", rotated)
	}
	stored, _ = st.SiteByID(context.Background(), uuid.MustParse(site.ID))
	if stored.PublicKey != rotated.PublicKey || stored.SecretHash != abuse.SecretHash(keysFor(t).SiteSecret(stored.ID, 2)) {
		t.Fatalf("after rotations the store holds %+v", stored)
	}
	log, err := st.AuditLog(context.Background(), uuid.MustParse(tenant.ID), 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"tenant.create", "member.add", "site.create", "site.rotate_secret_key", "site.rotate_public_key"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log %v lacks %s", actions, want)
		}
	}
}

func keysFor(t *testing.T) *abuse.Keyring {
	master, err := abuse.ParseMaster(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	k, err := abuse.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestUsageErrors(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"VERITY_SECRET": testSecret, "VERITY_CLICKHOUSE_ADDR": "127.0.0.1:1"}}
	cases := [][]string{
		{},
		{"frobnicate"},
		{"site"},
		{"site", "create", "--tenant", "not-a-uuid", "--domain", "a.example"},
		{"site", "create", "--tenant", uuid.NewString(), "--domain", "https://a.example/"},
		{"site", "create", "--tenant", uuid.NewString(), "--domain", "a.example", "--origin", "javascript:alert(1)"},
		{"user", "create", "--email", "not an email"},
		{"user", "create", "--email", "a@b.example", "--role", "god"},
		{"tenant", "create"},
		{"serve", "--role", "everything"},
		{"migrate", "--no-such-flag"},
		{"tenant", "list", "extra"},
	}
	for _, args := range cases {
		_, _, err := c.run("", args...)
		if !isUsage(err) {
			t.Errorf("verity %s: err = %v, want a usage error (exit 2)", strings.Join(args, " "), err)
		}
	}
	out, _, err := c.run("", "help")
	if err != nil || !strings.Contains(out, "site rotate-key") {
		t.Fatalf("help: %v %q", err, out)
	}
}

// Invalid configuration is reported whole, before anything connects: the
// ClickHouse address here would refuse the connection.
func TestInvalidConfigReportedBeforeConnecting(t *testing.T) {
	c := &cli{t: t, env: map[string]string{
		"VERITY_CLICKHOUSE_ADDR":     "127.0.0.1:1",
		"VERITY_WRITER_BATCH_SIZE":   "0",
		"VERITY_COLLECTOR_LISTEN":    "nowhere",
		"VERITY_LOG_LEVEL":           "chatty",
		"VERITY_CLICKHOUSE_DATABASE": "bad-name;DROP",
	}}
	_, _, err := c.run("", "tenant", "list")
	if err == nil || isUsage(err) {
		t.Fatalf("err = %v, want a configuration error (exit 1)", err)
	}
	for _, want := range []string{"secret: required", "writer.batch_size", "collector.listen", "log.level", "clickhouse.database"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "connect") {
		t.Errorf("it tried to connect before reporting the configuration: %v", err)
	}
}

// TestServeAndShutdown runs both servers on free ports, checks their health
// routes and that cancelling the context shuts them down cleanly.
func TestServeAndShutdown(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "migrate")
	cfg := config.Default()
	cfg.Secret = testSecret
	cfg.ClickHouse.Addr, cfg.ClickHouse.Database = c.env["VERITY_CLICKHOUSE_ADDR"], c.env["VERITY_CLICKHOUSE_DATABASE"]
	cfg.Collector.Listen, cfg.Dashboard.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Writer.SpoolDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, "all", slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func(a map[string]string) { addrs <- a })
	}()
	var a map[string]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	checks := []struct{ url, want string }{
		{"http://" + a["collector"] + "/healthz", `{"status":"ok"}`},
		{"http://" + a["collector"] + "/readyz", `{"clickhouse":"ok","spool":"ok"}`},
		{"http://" + a["dashboard"] + "/healthz", `{"status":"ok"}`},
	}
	for _, ch := range checks {
		resp, err := http.Get(ch.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != ch.want {
			t.Errorf("GET %s = %d %s, want 200 %s", ch.url, resp.StatusCode, body, ch.want)
		}
	}
	resp, err := http.Get("http://" + a["collector"] + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("unknown collector route = %d %s, want a JSON 404", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := http.Get("http://" + a["collector"] + "/healthz"); err == nil {
		t.Fatal("collector still answers after shutdown")
	}
}

func TestSnippetExport(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	dir := t.TempDir()
	out, _ := c.mustRun("", "snippet", "export", dir)
	if !strings.Contains(out, script.V1SRI()) || !strings.Contains(out, script.VersionedName()) {
		t.Fatalf("output lacks the SRI and file name:\n%s", out)
	}
	for _, name := range []string{"v1.js", script.VersionedName(), "sri.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		if name != "sri.json" && string(b) != string(script.V1()) {
			t.Fatalf("%s differs from the embedded snippet", name)
		}
	}
	if _, _, err := c.run("", "snippet", "export"); !isUsage(err) {
		t.Fatalf("no folder: err = %v, want a usage error", err)
	}
}
