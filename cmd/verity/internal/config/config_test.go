package config

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

// The example file must show exactly the defaults and every option, so it
// cannot drift from the code.
func TestExampleFileIsTheDefaults(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "configs", "verity.example.yaml")
	got, err := load(t, []string{"--config", path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Errorf("example file differs from the defaults:\nfile     %+v\ndefaults %+v", got, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	for _, o := range options(&def) {
		leaf := o.path[strings.LastIndex(o.path, ".")+1:]
		if !strings.Contains(string(b), "\n"+strings.Repeat(" ", 2*strings.Count(o.path, "."))+leaf+":") {
			t.Errorf("option %s is not documented in %s", o.path, path)
		}
	}
}

// normalise treats an empty list like a missing one.
func normalise(c Config) Config {
	if len(c.Collector.TrustedProxies) == 0 {
		c.Collector.TrustedProxies = nil
	}
	return c
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.yaml")
	yaml := "clickhouse:\n  addr: file:1\n  database: fromfile\nwriter:\n  batch_size: 7\n  flush_interval: 3s\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, []string{"--clickhouse.addr", "flag:3", "--collector.trusted_proxies", "10.0.0.0/8, 127.0.0.1"},
		map[string]string{"VERITY_CONFIG": file, "VERITY_CLICKHOUSE_ADDR": "env:2", "VERITY_CLICKHOUSE_DATABASE": "fromenv", "VERITY_WRITER_QUEUE_SIZE": "99", "VERITY_SCORING_WEIGHTS_VPN": "60"})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr (flag beats env beats file)", cfg.ClickHouse.Addr, "flag:3"},
		{"database (env beats file)", cfg.ClickHouse.Database, "fromenv"},
		{"batch_size (file beats default)", cfg.Writer.BatchSize, 7},
		{"flush_interval (file)", cfg.Writer.FlushInterval, 3 * time.Second},
		{"queue_size (env)", cfg.Writer.QueueSize, 99},
		{"trusted_proxies (flag list)", cfg.Collector.TrustedProxies, []string{"10.0.0.0/8", "127.0.0.1"}},
		{"spool_dir follows data_dir", cfg.Writer.SpoolDir, "data/spool"},
		{"username (default)", cfg.ClickHouse.Username, "default"},
		{"scoring weight (nested, env)", cfg.Scoring.Weights.VPN, 60},
		{"scoring threshold (default)", cfg.Scoring.InvalidAt, 70},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "v.yaml")
	if err := os.WriteFile(file, []byte("clickhouse:\n  adr: typo:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(t, []string{"--config", file}, nil)
	if err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("err = %v, want it to name the unknown key adr", err)
	}
}

func TestBadEnvValuesReportedTogether(t *testing.T) {
	_, err := load(t, nil, map[string]string{"VERITY_WRITER_FLUSH_INTERVAL": "soon", "VERITY_WRITER_BATCH_SIZE": "many"})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"VERITY_WRITER_FLUSH_INTERVAL", "VERITY_WRITER_BATCH_SIZE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	cfg := Default()
	cfg.ClickHouse.Addr = "nowhere"
	cfg.Writer.BatchSize = 0
	cfg.Collector.PublicURL = "ftp://x"
	cfg.Log.Level = "loud"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"secret: required", "clickhouse.addr", "writer.batch_size", "collector.public_url", "log.level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestValidDefaultsWithSecretFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, nil, map[string]string{"VERITY_SECRET_FILE": file})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults with a secret file: %v", err)
	}
	if s, _ := cfg.MasterSecret(); s != testSecret {
		t.Fatalf("MasterSecret = %q, want the file's content trimmed", s)
	}
	cfg.SecretFile, cfg.Secret = "", "tooshort"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "secret: ") || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("short secret: err = %v, want a secret error that does not echo it", err)
	}
	cfg.SecretFile = file
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("secret and secret_file both set: err = %v", err)
	}
}

func TestSecretsAreNotFlags(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	Flags(fs)
	for _, name := range []string{"secret", "clickhouse.password"} {
		if fs.Lookup(name) != nil {
			t.Errorf("--%s exists: secrets on a command line are visible to every user", name)
		}
	}
	if fs.Lookup("secret_file") == nil || fs.Lookup("clickhouse.password_file") == nil {
		t.Error("the *_file options must stay flags")
	}
}
