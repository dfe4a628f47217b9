package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chserver"
	"github.com/verityhq/verity/storage/fixture"
)

const (
	demoTenant = "Demo Company"
	demoEmail  = "demo@verity.localhost"
	demoDomain = "demo.localhost"
)

func cmdDev(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "dev", "[--dir .verity] [--clickhouse-port N] [--collector-port N] [--dashboard-port N] [--demo-port N] [--config FILE]")
	dir := fs.String("dir", ".verity", "folder for the local ClickHouse, the secret, the spool and the demo login (git-ignored)")
	chPort := fs.Int("clickhouse-port", 19000, "ClickHouse native port (loopback; its HTTP port is this minus 900)")
	collectorPort := fs.Int("collector-port", 8080, "collector port")
	dashboardPort := fs.Int("dashboard-port", 8081, "dashboard port")
	demoPort := fs.Int("demo-port", 8082, "demo page port")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	out := e.stderr
	step := func(format string, a ...any) { fmt.Fprintf(out, "==> "+format+"\n", a...) }

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	secretFile := filepath.Join(absDir, "secret")
	if err := ensureSecretFile(secretFile); err != nil {
		return err
	}

	// Any option may still be set (--config, VERITY_*, flags), but the
	// addresses, the data folder and, unless one is given, the secret are
	// the dev environment's own.
	cfg, err := config.Load(fs, e.getenv)
	if err != nil {
		return err
	}
	if cfg.Secret == "" && cfg.SecretFile == "" {
		cfg.SecretFile = secretFile
	}
	cfg.DataDir = absDir
	cfg.Writer.SpoolDir = filepath.Join(absDir, "spool")
	cfg.ClickHouse.Addr = "127.0.0.1:" + strconv.Itoa(*chPort)
	cfg.Collector.Listen = "127.0.0.1:" + strconv.Itoa(*collectorPort)
	cfg.Collector.PublicURL = "http://localhost:" + strconv.Itoa(*collectorPort)
	cfg.Dashboard.Listen = "127.0.0.1:" + strconv.Itoa(*dashboardPort)
	cfg.Dashboard.PublicURL = "http://localhost:" + strconv.Itoa(*dashboardPort)
	if len(cfg.Dashboard.Operators) == 0 {
		// The demo login is the local operator too, so that the operator
		// view has someone to show it to; configured operators replace it.
		cfg.Dashboard.Operators = []string{demoEmail}
	}
	if f := fs.Lookup("log.format"); f.Value.String() == "" && e.getenv("VERITY_LOG_FORMAT") == "" {
		cfg.Log.Format = "text" // a terminal, unless asked otherwise
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if err := writeDevConfig(filepath.Join(absDir, "verity.yaml"), cfg); err != nil {
		return err
	}

	step("Starting ClickHouse (project-managed, loopback only, data in %s)", filepath.Join(*dir, "clickhouse"))
	start := time.Now()
	srv, err := chserver.Start(ctx, chserver.Config{Dir: filepath.Join(absDir, "clickhouse"), TCPPort: *chPort, HTTPPort: *chPort - 900})
	if err != nil {
		return fmt.Errorf("%w\n(is another ClickHouse or `verity dev` using port %d? choose another with --clickhouse-port)", err, *chPort)
	}
	defer func() {
		step("Stopping ClickHouse")
		_ = srv.Stop()
	}()
	step("ClickHouse ready at %s in %s", srv.Addr(), time.Since(start).Round(time.Millisecond))

	step("Applying the schema")
	if err := migrate(ctx, out, cfg.ClickHouse); err != nil {
		return err
	}
	demoOrigin := "http://localhost:" + strconv.Itoa(*demoPort)
	demo, err := seedDemo(ctx, cfg, absDir, demoOrigin, step)
	if err != nil {
		return err
	}

	demoApp := fiber.New(fiber.Config{DisableStartupMessage: true})
	demoApp.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		// data-localhost: the snippet ignores localhost pages unless told.
		tag := strings.Replace(snippetTag(cfg, demo.site.PublicKey), "></script>", ` data-localhost="true"></script>`, 1)
		// The tag is ours (a key from our database), so it may go into the
		// page as HTML; it is also shown, escaped, as text.
		return demoPage.Execute(c, map[string]any{"Snippet": template.HTML(tag), "SnippetText": tag})
	})
	extra := []site{{"demo", "127.0.0.1:" + strconv.Itoa(*demoPort), demoApp}}

	log := newLogger(cfg.Log, out)
	return serve(ctx, cfg, "all", log, extra, func(map[string]string) {
		printDevBanner(e.stdout, cfg, srv, demo, *demoPort, *dir)
	})
}

// ensureSecretFile creates a random master secret once; later runs reuse
// it, so tokens and site secrets stay valid across restarts.
func ensureSecretFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	s, err := abuse.GenerateMaster()
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// writeDevConfig lets admin commands reach the dev environment:
// VERITY_CONFIG=.verity/verity.yaml verity site list.
func writeDevConfig(path string, cfg config.Config) error {
	content := fmt.Sprintf(`# Written by verity dev for admin commands against the local demo:
#   VERITY_CONFIG=%s verity site list
secret_file: %s
data_dir: %s
clickhouse:
  addr: %s
collector:
  public_url: %s
`, path, cfg.SecretFile, cfg.DataDir, cfg.ClickHouse.Addr, cfg.Collector.PublicURL)
	return os.WriteFile(path, []byte(content), 0o600)
}

type demoData struct {
	tenant   storage.Tenant
	site     storage.Site
	email    string
	password string
}

// seedDemo creates the demo tenant, login and site the first time, and
// finds them again later.
func seedDemo(ctx context.Context, cfg config.Config, dir, demoOrigin string, step func(string, ...any)) (demoData, error) {
	st, err := storage.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return demoData{}, err
	}
	defer st.Close()
	d := demoData{email: demoEmail}
	pwFile := filepath.Join(dir, "demo-password")

	tenants, err := st.Tenants(ctx)
	if err != nil {
		return d, err
	}
	for _, t := range tenants {
		if t.Name == demoTenant {
			d.tenant = t
		}
	}
	if d.tenant.Name == "" {
		step("Creating the demo tenant, login and site")
		if d.tenant, err = st.CreateTenant(ctx, demoTenant); err != nil {
			return d, err
		}
	}
	if _, err := st.UserByEmail(ctx, demoEmail); errors.Is(err, storage.ErrNotFound) {
		if d.password, err = randomPassword(); err != nil {
			return d, err
		}
		hash, err := password.Hash(d.password)
		if err != nil {
			return d, err
		}
		u, err := st.CreateUser(ctx, demoEmail, "Demo Owner", hash)
		if err != nil {
			return d, err
		}
		if err := st.SetMembership(ctx, storage.Membership{TenantID: d.tenant.ID, UserID: u.ID, Role: storage.RoleOwner}); err != nil {
			return d, err
		}
		if err := os.WriteFile(pwFile, []byte(d.password+"\n"), 0o600); err != nil {
			return d, err
		}
	} else if err != nil {
		return d, err
	} else if b, err := os.ReadFile(pwFile); err == nil {
		d.password = strings.TrimSpace(string(b))
	}
	sites, err := st.Sites(ctx, storage.SiteFilter{TenantID: d.tenant.ID})
	if err != nil {
		return d, err
	}
	for _, s := range sites {
		if s.Domain == demoDomain {
			d.site = s
		}
	}
	if d.site.Domain == "" {
		keys, err := keyring(cfg)
		if err != nil {
			return d, err
		}
		origins := []string{demoOrigin, strings.Replace(demoOrigin, "localhost", "127.0.0.1", 1)}
		if d.site, _, err = createSite(ctx, st, keys, d.tenant.ID, "Demo site", demoDomain, origins); err != nil {
			return d, err
		}
	}
	_, err = seedDemoHistory(ctx, st, d.site, time.Now(), step)
	return d, err
}

// demoHistoryEvents is the size of the demo site's generated history: every
// dashboard panel has something to show, and seeding takes about a second.
const demoHistoryEvents = 30_000

// seedDemoHistory writes 30 days of generated history (ingest = demo) up to
// now into the demo site, beside the live events of the demo page, once:
// when the site already has demo rows it writes nothing and returns 0.
func seedDemoHistory(ctx context.Context, st *storage.Store, site storage.Site, now time.Time, step func(string, ...any)) (int, error) {
	n, err := st.CountIngest(ctx, site.ID, fixture.Ingest)
	if err != nil || n > 0 {
		return 0, err
	}
	step("Seeding the demo site with 30 days of demo history (%d events)", demoHistoryEvents)
	cfg := fixture.Config{Events: demoHistoryEvents, Days: 30, End: now, Seed: 1, Domain: site.Domain}
	if err := fixture.Write(ctx, st, site.ID, cfg, nil); err != nil {
		return 0, fmt.Errorf("seed the demo history: %w", err)
	}
	return demoHistoryEvents, nil
}

func portOf(hostport string) string {
	if i := strings.LastIndex(hostport, ":"); i >= 0 {
		return hostport[i+1:]
	}
	return ""
}

func randomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func printDevBanner(w io.Writer, cfg config.Config, srv *chserver.Server, d demoData, demoPort int, dir string) {
	pw := d.password
	if pw == "" {
		pw = "(set before this folder's demo-password file was written; reset it with `verity user create`)"
	}
	operator := "operators: " + strings.Join(cfg.Dashboard.Operators, ", ")
	if slices.Contains(cfg.Dashboard.Operators, d.email) {
		operator = "the demo login is also an operator"
	}
	fmt.Fprintf(w, `
Verity is running. Press Ctrl-C to stop everything.

  Demo page   http://localhost:%d/            (embeds the snippet of the demo site)
  Dashboard   %s/
              login: %s   password: %s
  Operator    %s/operator   (%s)
  Collector   %s/healthz
  ClickHouse  %s  (native)   query it: clickhouse-client --port %s --database %s
  Admin CLI   VERITY_CONFIG=%s/verity.yaml go run ./cmd/verity site list

`, demoPort, cfg.Dashboard.PublicURL, d.email, pw, cfg.Dashboard.PublicURL, operator, cfg.Collector.PublicURL, srv.Addr(), portOf(srv.Addr()), cfg.ClickHouse.Database, dir)
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="A demo page for Verity, with the snippet embedded.">
<title>Verity demo page</title>
{{.Snippet}}
</head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Verity demo page</h1>
<p>This page embeds the demo site's snippet, exactly as a client's site would:</p>
<pre style="white-space:pre-wrap;background:#f4f4f4;padding:1rem">{{.SnippetText}}</pre>
<p><a href="https://example.com/">An outbound link</a></p>
</body>
</html>
`))
