package storage

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config says how to reach ClickHouse.
type Config struct {
	// Addr is the native-protocol address (host:port). Default 127.0.0.1:9000.
	Addr string `yaml:"addr"`
	// Database holds Verity's tables. Default "verity".
	Database string `yaml:"database"`
	// Username for ClickHouse. Default "default".
	Username string `yaml:"username"`
	// Password for ClickHouse; prefer PasswordFile. Not a command-line flag.
	// Default empty.
	Password string `yaml:"password" flag:"-"`
	// PasswordFile is read for the password when set.
	PasswordFile string `yaml:"password_file"`
	// DialTimeout bounds connecting. Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// QueryTimeout bounds one dashboard or administration query. Default 30s.
	QueryTimeout time.Duration `yaml:"query_timeout"`
	// MaxOpenConns caps the connection pool. Default 16.
	MaxOpenConns int `yaml:"max_open_conns"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:9000",
		Database:     "verity",
		Username:     "default",
		DialTimeout:  5 * time.Second,
		QueryTimeout: 30 * time.Second,
		MaxOpenConns: 16,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("clickhouse.addr %q: want host:port", c.Addr))
	}
	if !isIdentifier(c.Database) {
		errs = append(errs, fmt.Errorf("clickhouse.database %q: want letters, digits and _ only", c.Database))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, errors.New("clickhouse.dial_timeout: must be positive"))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, errors.New("clickhouse.query_timeout: must be positive"))
	}
	if c.MaxOpenConns <= 0 {
		errs = append(errs, errors.New("clickhouse.max_open_conns: must be positive"))
	}
	return errors.Join(errs...)
}

// isIdentifier reports whether s may be written into SQL as an identifier.
// Identifiers cannot be bound as parameters, so only this allowlist reaches
// SQL unquoted.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
