// Package config loads Verity's configuration: documented defaults, then a
// YAML file, then VERITY_* environment variables, then command-line flags,
// each overriding the last. Every option has one name, its YAML path
// ("clickhouse.addr"), from which its variable (VERITY_CLICKHOUSE_ADDR) and
// its flag (--clickhouse.addr) follow. Only cmd/verity imports it.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector"
	"github.com/verityhq/verity/dashboard"
	"github.com/verityhq/verity/storage"
)

// Config is the whole configuration; each concern owns its part.
type Config struct {
	// Secret is the master secret (hex or base64, at least 32 bytes) from
	// which every signing key is derived. Prefer SecretFile. Required. Not a
	// flag: command lines are visible to every user of the machine.
	Secret string `yaml:"secret" flag:"-"`
	// SecretFile is read for the master secret when set.
	SecretFile string `yaml:"secret_file"`
	// DataDir holds local state: the spool (unless writer.spool_dir says
	// otherwise) and, for `verity dev`, the project-managed ClickHouse.
	// Default "data".
	DataDir    string                `yaml:"data_dir"`
	ClickHouse storage.Config        `yaml:"clickhouse"`
	Writer     storage.WriterConfig  `yaml:"writer"`
	Collector  collector.Config      `yaml:"collector"`
	Dashboard  dashboard.Config      `yaml:"dashboard"`
	Scoring    abuse.ScoreConfig     `yaml:"scoring"`
	Behaviour  abuse.BehaviourConfig `yaml:"behaviour"`
	Log        Log                   `yaml:"log"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json (production) or text. Default json.
	Format string `yaml:"format"`
}

// Default returns the documented defaults.
func Default() Config {
	w := storage.DefaultWriterConfig()
	w.SpoolDir = "" // follows data_dir unless set
	return Config{
		DataDir:    "data",
		ClickHouse: storage.DefaultConfig(),
		Writer:     w,
		Collector:  collector.DefaultConfig(),
		Dashboard:  dashboard.DefaultConfig(),
		Scoring:    abuse.DefaultScoreConfig(),
		Behaviour:  abuse.DefaultBehaviourConfig(),
		Log:        Log{Level: "info", Format: "json"},
	}
}

// Load builds the configuration for a command: defaults, then the file
// named by --config or VERITY_CONFIG, then the environment, then the flags
// already parsed into fs (see Flags). It does not validate.
func Load(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	cfg := Default()
	file := getenv("VERITY_CONFIG")
	if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
		file = f.Value.String()
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config: %s: %w", file, err)
		}
	}
	var errs []error
	for _, o := range options(&cfg) {
		if v := getenv(o.env); v != "" {
			if err := o.set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", o.env, err))
			}
		}
	}
	fs.Visit(func(f *flag.Flag) {
		for _, o := range options(&cfg) {
			if o.path == f.Name && !o.noFlag {
				if err := o.set(f.Value.String()); err != nil {
					errs = append(errs, fmt.Errorf("--%s: %w", f.Name, err))
				}
			}
		}
	})
	if cfg.Writer.SpoolDir == "" {
		cfg.Writer.SpoolDir = cfg.DataDir + "/spool"
	}
	return cfg, errors.Join(errs...)
}

func decodeYAML(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt option is an error, not a silent default
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Flags registers --config and one flag per option on fs. Flag values are
// only markers: Load applies the ones that were set, after the file and the
// environment.
func Flags(fs *flag.FlagSet) {
	fs.String("config", "", "configuration file (YAML); also VERITY_CONFIG")
	def := Default()
	for _, o := range options(&def) {
		if !o.noFlag {
			fs.String(o.path, "", o.usage())
		}
	}
}

// Validate reports every problem at once, before anything connects.
func (c Config) Validate() error {
	var errs []error
	if text, err := c.MasterSecret(); err != nil {
		errs = append(errs, err)
	} else if _, err := abuse.ParseMaster(text); err != nil {
		errs = append(errs, fmt.Errorf("secret: %w", err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	for _, err := range []error{c.ClickHouse.Validate(), c.Writer.Validate(), c.Collector.Validate(), c.Dashboard.Validate(), c.Scoring.Validate(), c.Behaviour.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format %q: want json or text", c.Log.Format))
	}
	return errors.Join(errs...)
}

// MasterSecret returns the master secret's text from Secret or SecretFile.
// It is decoded by abuse.ParseMaster; the errors never echo it.
func (c Config) MasterSecret() (string, error) {
	switch {
	case c.Secret != "" && c.SecretFile != "":
		return "", errors.New("secret and secret_file: set one, not both")
	case c.SecretFile != "":
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return "", fmt.Errorf("secret_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	case c.Secret != "":
		return c.Secret, nil
	}
	return "", errors.New("secret: required (set secret_file, or VERITY_SECRET_FILE; `verity dev` makes one)")
}

// option is one settable leaf of the configuration.
type option struct {
	path, env string
	field     reflect.Value
	doc       string
	noFlag    bool // secrets: file and environment only
}

func (o option) usage() string {
	return fmt.Sprintf("%s (also %s)", o.doc, o.env)
}

// options lists the leaves of cfg in declaration order.
func options(cfg *Config) []option {
	var out []option
	walk(reflect.ValueOf(cfg).Elem(), "", &out)
	return out
}

func walk(v reflect.Value, prefix string, out *[]option) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
			walk(v.Field(i), path+".", out)
			continue
		}
		*out = append(*out, option{
			path:   path,
			env:    "VERITY_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(path)),
			field:  v.Field(i),
			doc:    kindDoc(f.Type),
			noFlag: f.Tag.Get("flag") == "-",
		})
	}
}

func kindDoc(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration, e.g. 5s"
	case t.Kind() == reflect.Slice:
		return "comma-separated list"
	default:
		return t.Kind().String()
	}
}

// set parses s into the option's field.
func (o option) set(s string) error {
	f := o.field
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration such as 5s or 1m: %q", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Int, f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number: %q", s)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false: %q", s)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("config: option %s has unsupported type %s", o.path, f.Type())
	}
	return nil
}
