package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errReported means the message was already printed (flag's own output).
var errReported = errors.New("reported")

// env is what every command gets: its input, outputs and environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string // "site create"
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

var commands = []command{
	{"serve", "run the collector and the dashboard (--role all|collector|dashboard)", cmdServe},
	{"migrate", "create the database and apply the schema migrations", cmdMigrate},
	{"tenant create", "create a tenant (a client company)", cmdTenantCreate},
	{"tenant list", "list tenants", cmdTenantList},
	{"user create", "create a dashboard user, optionally a member of a tenant", cmdUserCreate},
	{"site create", "create a site and print its keys and snippet tag", cmdSiteCreate},
	{"site list", "list sites", cmdSiteList},
	{"site rotate-key", "replace a site's public key or secret key", cmdSiteRotateKey},
	{"site rule add", "add a rule that allows or denies a site's traffic (cidr, asn, country, ua, path)", cmdSiteRuleAdd},
	{"site rule list", "list a site's rules", cmdSiteRuleList},
	{"site rule remove", "remove one of a site's rules", cmdSiteRuleRemove},
	{"quarantine add", "mark a site's stored events in a time window as invalid, after the fact", cmdQuarantineAdd},
	{"quarantine list", "list a site's quarantines", cmdQuarantineList},
	{"quarantine revoke", "revoke a quarantine: its events count again", cmdQuarantineRevoke},
	{"abuse eval", "replay labelled traffic through the scorer; precision, recall, targets", cmdAbuseEval},
	{"loadgen", "drive a running collector with realistic traffic; throughput, latency, persisted == accepted", cmdLoadgen},
	{"snippet export", "write the snippet files and their SRI hashes for a CDN", cmdSnippetExport},
	{"fixture", "write generated demo events (--events N --sites S) for benchmarks and demos", cmdFixture},
	{"dev", "local demo: ClickHouse, schema, demo tenant and site, all servers", cmdDev},
	{"version", "print the version", cmdVersion},
}

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	rest := args[1:]
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		printUsage(stdout)
		if len(rest) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	// Longest match first: "site create" before "site".
	matches := append([]command(nil), commands...)
	sort.SliceStable(matches, func(i, j int) bool { return len(matches[i].name) > len(matches[j].name) })
	for _, c := range matches {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			return c.run(ctx, e, rest[len(words):])
		}
	}
	var group []string
	for _, c := range commands {
		if strings.HasPrefix(c.name, rest[0]+" ") {
			group = append(group, strings.TrimPrefix(c.name, rest[0]+" "))
		}
	}
	if len(group) > 0 {
		return usagef("%s: want one of: %s", rest[0], strings.Join(group, ", "))
	}
	return usagef("unknown command %q; run `verity help`", rest[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "verity: web analytics where every event is verified before it is counted")
	fmt.Fprintln(w, "\nUsage: verity <command> [flags]   (verity <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nConfiguration: --config FILE (or VERITY_CONFIG), VERITY_* variables and flags; see configs/verity.example.yaml.")
}

// newFlags makes a command's flag set; parse errors and --help are printed
// by the flag package and reported as usage errors.
func newFlags(e env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: verity %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and rejects stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// helpAsked reports whether -h/--help was among args (then parse returned
// nil and the command should stop).
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

var version = "dev" // set with -ldflags "-X main.version=..."

func cmdVersion(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	fmt.Fprintln(e.stdout, "verity", version)
	return nil
}
