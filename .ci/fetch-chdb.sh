#!/usr/bin/env bash
# fetch-chdb.sh — make sure <repo>/.cache/chdb/libchdb.so exists.
#
# libchdb.so is the in-process ClickHouse 26.x engine (chDB) that the
# `chdb`-tagged tests load through github.com/chdb-io/chdb-go (set
# CHDB_LIB_PATH to the path this script prints). It is shipped by the npm
# package @chdb/lib-linux-x64-gnu, whose tarball holds:
#
#   package/libchdb.so       (~559 MB, the engine)
#   package/chdb_node.node   (Node.js binding, unused here)
#   package/index.js, package/package.json
#
# Idempotent: when the library for the pinned version is already in place
# nothing is downloaded. Otherwise the package is fetched with `npm pack`
# (≈167 MB download) into a temp dir next to the destination, its sha256 is
# checked, libchdb.so is extracted and renamed into place atomically, so an
# interrupted or concurrent run never leaves a partial library behind.
#
# stdout: the absolute path of libchdb.so (last line). Progress goes to stderr.
set -euo pipefail

CHDB_NPM_PACKAGE='@chdb/lib-linux-x64-gnu'
CHDB_NPM_VERSION='26.5.3' # engine reports 26.5.1.1
CHDB_TARBALL_SHA256='b874e449710950da3abd7e20376f7bb3387d9e03adcc7082f022be18dfdf316a'

log() { printf 'fetch-chdb: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd -- "$script_dir/.." && pwd -P)
cache_dir="$repo_root/.cache/chdb"
lib="$cache_dir/libchdb.so"
stamp="$cache_dir/libchdb.version"
want="$CHDB_NPM_PACKAGE@$CHDB_NPM_VERSION"

if [[ -f "$lib" && -s "$lib" && -f "$stamp" && "$(cat -- "$stamp")" == "$want" ]]; then
	printf '%s\n' "$lib"
	exit 0
fi

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*) die "$CHDB_NPM_PACKAGE only supports Linux x86_64 (glibc); this is $(uname -s)/$(uname -m)" ;;
esac

command -v npm >/dev/null 2>&1 ||
	die "npm not found in PATH; it is needed once to download $want (libchdb.so). Install Node.js/npm (Debian: apt-get install npm), or put libchdb.so at $lib and write '$want' into $stamp"
command -v tar >/dev/null 2>&1 || die "tar not found in PATH"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found in PATH"

mkdir -p -- "$cache_dir"
# The temp dir lives in the destination directory so the final mv is a
# same-filesystem rename(2), i.e. atomic.
tmp=$(mktemp -d -- "$cache_dir/.fetch.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

log "downloading $want with npm pack (~167 MB) ..."
start=$SECONDS
# A private npm cache keeps the 167 MB tarball out of ~/.npm: .cache/chdb is the cache.
tgz=$(cd -- "$tmp" && npm pack --silent --cache "$tmp/npm-cache" "$want" | tail -n 1) ||
	die "npm pack $want failed"
[[ -n "$tgz" && -f "$tmp/$tgz" ]] || die "npm pack did not produce a tarball (got '$tgz')"

got=$(sha256sum -- "$tmp/$tgz" | cut -d' ' -f1)
[[ "$got" == "$CHDB_TARBALL_SHA256" ]] ||
	die "sha256 mismatch for $tgz: got $got, want $CHDB_TARBALL_SHA256"

log "extracting libchdb.so ..."
tar -xzf "$tmp/$tgz" -C "$tmp" package/libchdb.so ||
	die "package/libchdb.so not found in $tgz (package layout changed?)"
rm -f -- "$tmp/$tgz"
[[ -s "$tmp/package/libchdb.so" ]] || die "extracted libchdb.so is empty"
chmod 0755 "$tmp/package/libchdb.so"

printf '%s\n' "$want" >"$tmp/libchdb.version"
# Library first, then the stamp: a crash in between only causes a re-fetch.
mv -f -- "$tmp/package/libchdb.so" "$lib"
mv -f -- "$tmp/libchdb.version" "$stamp"

size=$(du -m -- "$lib" | cut -f1)
log "installed $want ($size MB) in $((SECONDS - start))s"
printf '%s\n' "$lib"
