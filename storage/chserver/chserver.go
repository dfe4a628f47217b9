// Package chserver runs a project-managed ClickHouse server process on
// loopback: `verity dev` uses it for the local demo and storage/chtest for
// integration tests. It is not for production, where operators run their own
// ClickHouse.
package chserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// Config says where and how to run the server.
type Config struct {
	// Dir holds the server's data, logs and generated configuration. Required.
	Dir string
	// TCPPort is the native-protocol port; 0 picks a free loopback port.
	TCPPort int
	// HTTPPort is the HTTP interface port; 0 picks a free loopback port.
	HTTPPort int
	// Binary is the server executable; empty finds it with FindBinary.
	Binary string
	// MaxMemoryBytes caps one query's memory (the default profile's
	// max_memory_usage); 0 means 4 GiB.
	MaxMemoryBytes int64
	// StartTimeout bounds how long Start waits for the server to accept
	// connections; 0 means 60 s.
	StartTimeout time.Duration
}

// Server is a running (or stopped) ClickHouse process.
type Server struct {
	cfg  Config
	argv []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// ErrNotInstalled is returned when no ClickHouse server binary is found.
var ErrNotInstalled = errors.New("chserver: no ClickHouse server binary found (install Debian's clickhouse-server package, or run `make run` / `make test`, which install it)")

// FindBinary returns the command line that starts a ClickHouse server:
// Debian's `clickhouse-server`, or the single `clickhouse` binary that newer
// releases ship, run as `clickhouse server`.
func FindBinary() ([]string, error) {
	for _, name := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p}, nil
		}
	}
	for _, name := range []string{"clickhouse", "/usr/bin/clickhouse"} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p, "server"}, nil
		}
	}
	return nil, ErrNotInstalled
}

// Start writes the server's configuration under cfg.Dir, starts it and waits
// until it accepts native-protocol connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("chserver: Config.Dir is required")
	}
	if cfg.MaxMemoryBytes == 0 {
		cfg.MaxMemoryBytes = 4 << 30
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	argv := []string{cfg.Binary}
	if cfg.Binary == "" {
		var err error
		if argv, err = FindBinary(); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("chserver: %w", err)
	}
	cfg.Dir = dir
	for _, p := range []*int{&cfg.TCPPort, &cfg.HTTPPort} {
		if *p == 0 {
			if *p, err = freePort(); err != nil {
				return nil, err
			}
		}
	}
	if err := writeConfig(cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, argv: append(argv, "--config-file="+filepath.Join(dir, "config.xml"))}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the native-protocol address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.TCPPort)) }

// HTTPAddr is the HTTP interface address, host:port.
func (s *Server) HTTPAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.HTTPPort))
}

// Dir is the server's folder.
func (s *Server) Dir() string { return s.cfg.Dir }

// Start (re)starts a stopped server on the same ports and data, and waits
// until it is ready.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logFile, err := os.OpenFile(filepath.Join(s.cfg.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("chserver: %w", err)
	}
	// Not exec.CommandContext: the server must outlive a request context.
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir = s.cfg.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a Ctrl-C in the terminal reaches only us and
	// we stop the server in order; Pdeathsig kills it if we die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("chserver: start %s: %w", s.argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(s.cfg.StartTimeout)
	for {
		conn, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("chserver: server exited during start-up; see %s: %s", filepath.Join(s.cfg.Dir, "log"), s.lastLogLines())
		case <-ctx.Done():
			s.stopLocked(5 * time.Second)
			return fmt.Errorf("chserver: start: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stopLocked(5 * time.Second)
			return fmt.Errorf("chserver: server not ready after %s; see %s", s.cfg.StartTimeout, filepath.Join(s.cfg.Dir, "log"))
		}
	}
}

// Stop stops the server gracefully (SIGTERM), killing it after 15 s.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(15 * time.Second)
	return nil
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(0)
	return nil
}

func (s *Server) stopLocked(grace time.Duration) {
	if s.cmd == nil {
		return
	}
	pgid := -s.cmd.Process.Pid
	if grace > 0 {
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-s.done:
			s.cmd = nil
			return
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

func (s *Server) lastLogLines() string {
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "log", "server.err.log"))
	if err != nil || len(b) == 0 {
		b, _ = os.ReadFile(filepath.Join(s.cfg.Dir, "stdout.log"))
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The root element is <yandex>: ClickHouse 18.16 knows only that name, and
// current releases still accept it.
var configXML = template.Must(template.New("config").Parse(`<?xml version="1.0"?>
<!-- Generated by Verity (storage/chserver); edits are overwritten. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>{{.Dir}}/log/server.log</log>
    <errorlog>{{.Dir}}/log/server.err.log</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{{.TCPPort}}</tcp_port>
  <http_port>{{.HTTPPort}}</http_port>
  <path>{{.Dir}}/data/</path>
  <tmp_path>{{.Dir}}/tmp/</tmp_path>
  <user_files_path>{{.Dir}}/user_files/</user_files_path>
  <format_schema_path>{{.Dir}}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <users_config>{{.Dir}}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`))

var usersXML = template.Must(template.New("users").Parse(`<?xml version="1.0"?>
<!-- Generated by Verity (storage/chserver); loopback only, no password. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>{{.MaxMemoryBytes}}</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`))

func writeConfig(cfg Config) error {
	for _, sub := range []string{"log", "data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, sub), 0o700); err != nil {
			return fmt.Errorf("chserver: %w", err)
		}
	}
	for name, t := range map[string]*template.Template{"config.xml": configXML, "users.xml": usersXML} {
		if err := writeTemplate(filepath.Join(cfg.Dir, name), t, cfg); err != nil {
			return err
		}
	}
	return nil
}

func writeTemplate(path string, t *template.Template, data any) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("chserver: %w", err)
	}
	if err := t.Execute(f, data); err != nil {
		f.Close()
		return fmt.Errorf("chserver: write %s: %w", path, err)
	}
	return f.Close()
}
