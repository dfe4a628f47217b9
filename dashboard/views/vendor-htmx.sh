#!/usr/bin/env bash
# Vendors htmx from the npm registry into static/ (run by `go generate
# ./dashboard/views`). The files are committed, so builds need no network;
# rerun this after changing HTMX_VERSION. npm checks the tarball against the
# registry's integrity hash, and the SHA-256 of the file we keep is printed
# into htmx.min.js.sha256 so a review sees any change.
set -euo pipefail

HTMX_VERSION=2.0.11

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null)
tar -xzf "$tmp"/htmx.org-"$HTMX_VERSION".tgz -C "$tmp" package/dist/htmx.min.js package/LICENSE
cp "$tmp/package/dist/htmx.min.js" "$here/static/htmx.min.js"
cp "$tmp/package/LICENSE" "$here/static/htmx.LICENSE.txt"
(cd "$here/static" && sha256sum htmx.min.js) >"$here/htmx.min.js.sha256"
echo "vendored htmx.org@$HTMX_VERSION: $(cat "$here/htmx.min.js.sha256")"
