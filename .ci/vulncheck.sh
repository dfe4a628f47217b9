#!/usr/bin/env bash
# Offline vulnerability scan.
#
# Builds (once per golang.org/x/vulndb version, cached under .cache/vulndb/)
# a govulncheck database from the OSV files shipped in the golang.org/x/vulndb
# module, fetched through the Go module proxy, using vulndb's own cmd/indexdb.
# Then runs `go tool govulncheck -db file://<db> ./...` and exits non-zero on
# findings (govulncheck exits 3 when vulnerable code is reachable).
#
# If the proxy cannot be reached (or the DB build fails) but a DB was built
# before, that DB is used with a warning. Extra arguments replace the default package pattern ./...
#
# Env: VULNCHECK_PROXY_TIMEOUT (seconds, default 300) bounds the module-proxy
# look-up/download of golang.org/x/vulndb.
set -euo pipefail

log() { printf 'vulncheck: %s\n' "$*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

# The machine's go env says GOTOOLCHAIN=local; go.mod pins the patched
# toolchain, which only `auto` honours. An explicit GOTOOLCHAIN is respected.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

cache="$root/.cache/vulndb"
mkdir -p "$cache"

# Work outside the repository's module, so nothing touches go.mod/go.sum.
scratch="$(mktemp -d "$cache/.tmp.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/cwd"

json_field() { # json_field NAME < go-json
	sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n 1
}

# build_db VERSION MODDIR: build the DB for that vulndb version into
# $cache/VERSION (atomically). Returns non-zero on failure.
build_db() {
	local version="$1" moddir="$2" out="$scratch/db" target="$cache/$1"
	log "building DB from golang.org/x/vulndb $version ($(find "$moddir/data/osv" -name '*.json' | wc -l) OSV entries)"
	rm -rf "$out"
	# go run pkg@version builds indexdb with vulndb's own go.mod (deps come
	# from the proxy; the binary is cached in GOCACHE).
	if ! (cd "$scratch/cwd" && go run "golang.org/x/vulndb/cmd/indexdb@$version" \
		-vulns "$moddir/data/osv" -out "$out") 2>&1 | sed 's/^/vulncheck:   /' >&2; then
		log "indexdb failed"
		return 1
	fi
	if [[ ! -f "$out/index/modules.json" ]]; then
		log "indexdb produced no index/modules.json"
		return 1
	fi
	# Atomic publish; a concurrent run may have won the race, which is fine.
	if [[ -e "$target" && ! -f "$target/index/modules.json" ]]; then
		rm -rf "$target" # leftover of a broken run
	fi
	if ! mv -T "$out" "$target" 2>/dev/null && [[ ! -f "$target/index/modules.json" ]]; then
		log "could not move the DB into $target"
		return 1
	fi
	log "built $target ($(du -sh "$target" | cut -f1))"
}

db=""
log "resolving golang.org/x/vulndb@latest through the module proxy"
if (cd "$scratch/cwd" && timeout "${VULNCHECK_PROXY_TIMEOUT:-300}" \
	go mod download -json golang.org/x/vulndb@latest) >"$scratch/dl.json" 2>"$scratch/dl.err"; then
	version="$(json_field Version <"$scratch/dl.json")"
	moddir="$(json_field Dir <"$scratch/dl.json")"
	if [[ -z "$version" || -z "$moddir" || ! -d "$moddir/data/osv" ]]; then
		log "WARNING: unexpected 'go mod download' output:"
		sed 's/^/vulncheck:   /' "$scratch/dl.json" >&2
	elif [[ -f "$cache/$version/index/modules.json" ]]; then
		log "using cached DB for golang.org/x/vulndb $version"
		db="$cache/$version"
	elif build_db "$version" "$moddir"; then
		db="$cache/$version"
	fi
	if [[ -n "$db" ]]; then
		printf '%s\n' "$version" >"$scratch/current"
		mv -f "$scratch/current" "$cache/current"
		# Drop DBs of older vulndb versions.
		for d in "$cache"/v*; do
			if [[ -d "$d" && "$d" != "$db" ]]; then
				rm -rf "$d"
			fi
		done
	fi
else
	log "WARNING: could not reach the module proxy for golang.org/x/vulndb:"
	{ json_field Error <"$scratch/dl.json"; cat "$scratch/dl.err"; } | sed -e 's/\\"/"/g' -e 's/^/vulncheck:   /' >&2
fi
if [[ -z "$db" ]]; then
	cached="$(cat "$cache/current" 2>/dev/null || true)"
	if [[ -n "$cached" && -f "$cache/$cached/index/modules.json" ]]; then
		db="$cache/$cached"
		log "WARNING: falling back to the cached DB from golang.org/x/vulndb $cached (may be stale)"
	else
		log "no usable DB: nothing cached in $cache"
		exit 1
	fi
fi

if [[ $# -eq 0 ]]; then
	set -- ./...
fi
log "go tool govulncheck -db file://$db $*"
rc=0
go tool govulncheck -db "file://$db" "$@" || rc=$?
if [[ $rc -ne 0 ]]; then
	if [[ $rc -eq 3 ]]; then
		log "FAILED: vulnerabilities found (see above)"
	else
		log "FAILED: govulncheck exited $rc"
	fi
	exit "$rc"
fi
log "OK: no vulnerabilities found"
