#!/usr/bin/env bash
# Installs what `make run` (deps.sh run) or `make test` (deps.sh test) needs
# on Debian, and only what is missing. Prints what it does on stderr; fails
# with a message naming the missing piece where it cannot install it.
set -euo pipefail
purpose=${1:-run}
say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

have() { command -v "$1" >/dev/null 2>&1; }
need=()

# Go: any Go 1.21+ fetches the pinned toolchain (go.mod's `toolchain` line)
# through the module proxy by itself.
if ! have go && [ ! -x /usr/local/go/bin/go ]; then
  die "Go is not installed. Install Go 1.21 or newer (https://go.dev/doc/install, or Debian 13's golang-go); Verity's go.mod then selects its pinned toolchain."
fi
if ! have clickhouse-server && [ ! -x /usr/sbin/clickhouse-server ] && ! have clickhouse; then
  need+=(clickhouse-server)
fi
have clickhouse-client || have clickhouse || need+=(clickhouse-client)
if [ "$purpose" = test ]; then
  have npm || need+=(npm)            # fetches chDB (ClickHouse 26.x) for the compatibility test
  have chromium || need+=(chromium)  # browser tests: the snippet in a real headless browser
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
[ -f /etc/debian_version ] || die "missing ${need[*]}, and this is not Debian: install them with your package manager."
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  have sudo || die "missing ${need[*]}: run as root or install sudo, or install them yourself: apt-get install ${need[*]}"
  sudo=(sudo)
fi
say "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
say "installed ${need[*]}"
