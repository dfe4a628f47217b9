package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"golang.org/x/term"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/storage"
)

// loadConfig applies file, environment and flags, and validates.
func loadConfig(e env, fs *flag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(fs, e.getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return cfg, nil
}

// openStore connects to the configured, migrated database.
func openStore(ctx context.Context, cfg config.Config) (*storage.Store, error) {
	st, err := storage.Open(ctx, cfg.ClickHouse)
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") || strings.Contains(err.Error(), "UNKNOWN_DATABASE") {
			return nil, fmt.Errorf("%w\n(run `verity migrate` first)", err)
		}
		return nil, err
	}
	return st, nil
}

// openConfigured loads and validates the configuration, then connects.
func openConfigured(ctx context.Context, e env, fs *flag.FlagSet) (config.Config, *storage.Store, error) {
	cfg, err := loadConfig(e, fs)
	if err != nil {
		return cfg, nil, err
	}
	st, err := openStore(ctx, cfg)
	return cfg, st, err
}

func keyring(cfg config.Config) (*abuse.Keyring, error) {
	text, err := cfg.MasterSecret()
	if err != nil {
		return nil, err
	}
	master, err := abuse.ParseMaster(text)
	if err != nil {
		return nil, err
	}
	return abuse.NewKeyring(master)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate", "[--config FILE]")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	cfg, err := loadConfig(e, fs)
	if err != nil {
		return err
	}
	return migrate(ctx, e.stderr, cfg.ClickHouse)
}

// migrate creates the database and applies what is missing, telling w.
func migrate(ctx context.Context, w io.Writer, cfg storage.Config) error {
	if err := storage.CreateDatabase(ctx, cfg); err != nil {
		return err
	}
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	applied, err := st.Migrate(ctx, func(m storage.Migration) {
		fmt.Fprintf(w, "migrate: applying %04d_%s (%d statements)\n", m.Version, m.Name, len(m.Statements))
	})
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(w, "migrate: %s database %q is up to date\n", st.Dialect(), cfg.Database)
		return nil
	}
	fmt.Fprintf(w, "migrate: applied %d migrations to %q on %s in %s\n", len(applied), cfg.Database, st.Dialect(), time.Since(start).Round(time.Millisecond))
	return nil
}

func cmdTenantCreate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tenant create", "--name NAME [--json]")
	name := fs.String("name", "", "the tenant's name (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	if strings.TrimSpace(*name) == "" || len(*name) > 200 {
		return usagef("tenant create: --name is required (at most 200 characters)")
	}
	_, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.CreateTenant(ctx, strings.TrimSpace(*name))
	if err != nil {
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: t.ID, Actor: "cli", Action: "tenant.create", Target: t.ID.String(), Detail: t.Name}); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, tenantJSON(t))
	}
	fmt.Fprintf(e.stdout, "Created tenant %q\n  tenant id: %s\n", t.Name, t.ID)
	return nil
}

type tenantOut struct {
	ID        string    `json:"tenant_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func tenantJSON(t storage.Tenant) tenantOut {
	return tenantOut{ID: t.ID.String(), Name: t.Name, CreatedAt: t.CreatedAt}
}

func cmdTenantList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "tenant list", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	_, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.Tenants(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := []tenantOut{}
		for _, t := range ts {
			out = append(out, tenantJSON(t))
		}
		return printJSON(e.stdout, out)
	}
	if len(ts) == 0 {
		fmt.Fprintln(e.stdout, "No tenants yet. Create one with: verity tenant create --name \"Acme\"")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT ID\tNAME\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func cmdUserCreate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user create", "--email EMAIL [--name NAME] [--tenant ID --role owner|admin|viewer] [--json]\n\nThe password is read from standard input (first line), or prompted for on a terminal; never from the command line.")
	email := fs.String("email", "", "login email (required)")
	name := fs.String("name", "", "display name")
	tenant := fs.String("tenant", "", "tenant id to join")
	role := fs.String("role", "owner", "role in --tenant: owner, admin or viewer")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	addr, err := mail.ParseAddress(*email)
	if err != nil || addr.Address != strings.TrimSpace(*email) {
		return usagef("user create: --email %q is not an email address", *email)
	}
	var tenantID uuid.UUID
	if *tenant != "" {
		if tenantID, err = uuid.Parse(*tenant); err != nil {
			return usagef("user create: --tenant %q is not a tenant id", *tenant)
		}
	}
	if !storage.Role(*role).Valid() {
		return usagef("user create: --role %q: want owner, admin or viewer", *role)
	}
	cfg, err := loadConfig(e, fs)
	if err != nil {
		return err
	}
	pw, err := readPassword(e)
	if err != nil {
		return err
	}
	if err := password.Validate(pw); err != nil {
		return err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if tenantID != uuid.Nil {
		if _, err := st.TenantByID(ctx, tenantID); err != nil {
			return fmt.Errorf("tenant %s: %w", tenantID, err)
		}
	}
	u, err := st.CreateUser(ctx, strings.ToLower(addr.Address), *name, hash)
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("a user with email %s already exists", addr.Address)
	} else if err != nil {
		return err
	}
	if tenantID != uuid.Nil {
		if err := st.SetMembership(ctx, storage.Membership{TenantID: tenantID, UserID: u.ID, Role: storage.Role(*role)}); err != nil {
			return err
		}
		if err := st.Audit(ctx, storage.AuditEntry{TenantID: tenantID, Actor: "cli", Action: "member.add", Target: u.ID.String(), Detail: u.Email + " as " + *role}); err != nil {
			return err
		}
	}
	if *asJSON {
		out := map[string]string{"user_id": u.ID.String(), "email": u.Email}
		if tenantID != uuid.Nil {
			out["tenant_id"], out["role"] = tenantID.String(), *role
		}
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "Created user %s\n  user id: %s\n", u.Email, u.ID)
	if tenantID != uuid.Nil {
		fmt.Fprintf(e.stdout, "  member of tenant %s as %s\n", tenantID, *role)
	}
	return nil
}

// readPassword prompts twice without echo on a terminal, or reads the first
// line of a pipe.
func readPassword(e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(e.stderr, "Repeat password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input (pipe it in, e.g. `printf '%s\\n' \"$PW\" | verity user create ...`)")
	}
	return line, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdSiteCreate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site create", "--tenant ID --domain DOMAIN [--name NAME] [--origin URL]... [--json]")
	tenant := fs.String("tenant", "", "owning tenant id (required)")
	domain := fs.String("domain", "", "the site's domain, e.g. example.com (required)")
	name := fs.String("name", "", "display name (default: the domain)")
	var origins multiFlag
	fs.Var(&origins, "origin", "an allowed Origin, e.g. https://www.example.com or https://*.example.com (repeatable; default https://DOMAIN and https://*.DOMAIN)")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	tenantID, err := uuid.Parse(*tenant)
	if err != nil {
		return usagef("site create: --tenant %q is not a tenant id", *tenant)
	}
	d := strings.ToLower(strings.TrimSpace(*domain))
	if !storage.ValidDomain(d) {
		return usagef("site create: --domain %q is not a domain name (no scheme, no path)", *domain)
	}
	if len(origins) == 0 {
		origins = multiFlag{"https://" + d, "https://*." + d}
	}
	var errs []string
	for i, o := range origins {
		norm, err := storage.NormaliseOrigin(o)
		if err != nil {
			errs = append(errs, err.Error())
		}
		origins[i] = norm
	}
	if len(errs) > 0 {
		return usagef("site create: %s", strings.Join(errs, "; "))
	}
	if *name == "" {
		*name = d
	}
	cfg, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := keyring(cfg)
	if err != nil {
		return err
	}
	if _, err := st.TenantByID(ctx, tenantID); err != nil {
		return fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	site, secret, err := createSite(ctx, st, keys, tenantID, *name, d, origins)
	if err != nil {
		return err
	}
	return printSite(e.stdout, cfg, site, secret, *asJSON)
}

// createSite stores a new site with fresh keys and returns its secret key,
// which is shown once and never stored.
func createSite(ctx context.Context, st *storage.Store, keys *abuse.Keyring, tenantID uuid.UUID, name, domain string, origins []string) (storage.Site, string, error) {
	pk, err := abuse.NewPublicKey()
	if err != nil {
		return storage.Site{}, "", err
	}
	site := storage.Site{ID: uuid.New(), TenantID: tenantID, Name: name, Domain: domain, PublicKey: pk, SecretVersion: 1, AllowedOrigins: origins}
	secret := keys.SiteSecret(site.ID, site.SecretVersion)
	site.SecretHash = abuse.SecretHash(secret)
	if err := st.PutSite(ctx, site); err != nil {
		return storage.Site{}, "", err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: tenantID, Actor: "cli", Action: "site.create", Target: site.ID.String(), Detail: domain}); err != nil {
		return storage.Site{}, "", err
	}
	return site, secret, nil
}

type siteOut struct {
	ID             string   `json:"site_id"`
	TenantID       string   `json:"tenant_id"`
	Name           string   `json:"name"`
	Domain         string   `json:"domain"`
	PublicKey      string   `json:"public_key"`
	SecretKey      string   `json:"secret_key,omitempty"`
	SecretVersion  uint32   `json:"secret_version"`
	AllowedOrigins []string `json:"allowed_origins"`
	Snippet        string   `json:"snippet"`
}

func siteJSON(cfg config.Config, s storage.Site, secret string) siteOut {
	return siteOut{ID: s.ID.String(), TenantID: s.TenantID.String(), Name: s.Name, Domain: s.Domain, PublicKey: s.PublicKey,
		SecretKey: secret, SecretVersion: s.SecretVersion, AllowedOrigins: s.AllowedOrigins, Snippet: snippetTag(cfg, s.PublicKey)}
}

// snippetTag is the one line a client pastes into their pages.
func snippetTag(cfg config.Config, publicKey string) string {
	return fmt.Sprintf(`<script defer src="%s/s/v1.js" data-site="%s"></script>`, strings.TrimRight(cfg.Collector.PublicURL, "/"), publicKey)
}

func printSite(w io.Writer, cfg config.Config, s storage.Site, secret string, asJSON bool) error {
	if asJSON {
		return printJSON(w, siteJSON(cfg, s, secret))
	}
	fmt.Fprintf(w, "Site %s (%s)\n", s.Name, s.Domain)
	fmt.Fprintf(w, "  site id:         %s\n", s.ID)
	fmt.Fprintf(w, "  tenant id:       %s\n", s.TenantID)
	fmt.Fprintf(w, "  public key:      %s\n", s.PublicKey)
	if secret != "" {
		fmt.Fprintf(w, "  secret key:      %s\n", secret)
		fmt.Fprintln(w, "                   (shown once: store it now; it signs server-to-server events)")
	}
	fmt.Fprintf(w, "  allowed origins: %s\n", strings.Join(s.AllowedOrigins, ", "))
	fmt.Fprintf(w, "\nPaste into every page, before </head>:\n  %s\n", snippetTag(cfg, s.PublicKey))
	return nil
}

func cmdSiteList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site list", "[--tenant ID] [--json]")
	tenant := fs.String("tenant", "", "only this tenant's sites")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	var f storage.SiteFilter
	if *tenant != "" {
		id, err := uuid.Parse(*tenant)
		if err != nil {
			return usagef("site list: --tenant %q is not a tenant id", *tenant)
		}
		f.TenantID = id
	}
	cfg, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	sites, err := st.Sites(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		out := []siteOut{}
		for _, s := range sites {
			out = append(out, siteJSON(cfg, s, ""))
		}
		return printJSON(e.stdout, out)
	}
	if len(sites) == 0 {
		fmt.Fprintln(e.stdout, "No sites yet. Create one with: verity site create --tenant TENANT_ID --domain example.com")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE ID\tTENANT ID\tDOMAIN\tPUBLIC KEY\tORIGINS")
	for _, s := range sites {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.TenantID, s.Domain, s.PublicKey, strings.Join(s.AllowedOrigins, " "))
	}
	return tw.Flush()
}

func cmdSiteRotateKey(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site rotate-key", "--site ID [--secret] [--json]\n\nWithout --secret, replaces the public key (update the snippet tag on the site); with it, the secret key. The old key stops working within the collectors' refresh interval.")
	site := fs.String("site", "", "site id (required)")
	secret := fs.Bool("secret", false, "rotate the secret key instead of the public key")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	siteID, err := uuid.Parse(*site)
	if err != nil {
		return usagef("site rotate-key: --site %q is not a site id", *site)
	}
	cfg, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := keyring(cfg)
	if err != nil {
		return err
	}
	s, err := st.SiteByID(ctx, siteID)
	if err != nil {
		return fmt.Errorf("site %s: %w", siteID, err)
	}
	newSecret, action := "", "site.rotate_public_key"
	if *secret {
		s.SecretVersion++
		newSecret = keys.SiteSecret(s.ID, s.SecretVersion)
		s.SecretHash = abuse.SecretHash(newSecret)
		action = "site.rotate_secret_key"
	} else if s.PublicKey, err = abuse.NewPublicKey(); err != nil {
		return err
	}
	if err := st.PutSite(ctx, s); err != nil {
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: s.TenantID, Actor: "cli", Action: action, Target: s.ID.String()}); err != nil {
		return err
	}
	return printSite(e.stdout, cfg, s, newSecret, *asJSON)
}
