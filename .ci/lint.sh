#!/usr/bin/env bash
# Lint: gofmt (generated *_templ.go excluded), go mod tidy, go vet, staticcheck.
# Extra arguments replace the default package pattern ./... for vet and
# staticcheck (gofmt always checks the whole tree).
set -euo pipefail

log() { printf 'lint: %s\n' "$*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

# The machine's go env says GOTOOLCHAIN=local; go.mod pins the patched
# toolchain, which only `auto` honours. An explicit GOTOOLCHAIN is respected.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

if [[ $# -eq 0 ]]; then
	set -- ./...
fi

# gofmt from the selected toolchain (not whatever gofmt is on PATH).
gofmt="$(go env GOROOT)/bin/gofmt"

log "gofmt -l (excluding *_templ.go)"
# Tracked and untracked-but-not-ignored .go files when in a git work tree,
# otherwise every .go file outside hidden dirs; vendor/ and testdata/ (which
# the go tool ignores too) are skipped either way.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list_go() {
		git ls-files -z --cached --others --exclude-standard -- '*.go' \
			':(exclude)*_templ.go' ':(exclude,glob)**/testdata/**' ':(exclude,glob)**/vendor/**'
	}
else
	list_go() {
		find . \( -name '.?*' -o -name vendor -o -name testdata \) -prune -o \
			-type f -name '*.go' ! -name '*_templ.go' -print0
	}
fi
if ! unformatted="$(list_go | while IFS= read -r -d '' f; do
	if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi # skip deleted-but-tracked
done | xargs -0 -r "$gofmt" -l)"; then
	log "FAILED: gofmt could not parse some files (errors above)"
	if [[ -n "$unformatted" ]]; then
		printf '%s\n' "$unformatted" | sed 's/^/lint:   unformatted: /' >&2
	fi
	exit 1
fi
if [[ -n "$unformatted" ]]; then
	log "FAILED: files not gofmt-formatted (run: gofmt -w <file>):"
	printf '%s\n' "$unformatted" | sed 's/^/lint:   /' >&2
	exit 1
fi

log "go mod tidy -diff"
if ! go mod tidy -diff >&2; then
	log "FAILED: go.mod/go.sum are not tidy (run: go mod tidy)"
	exit 1
fi

log "go vet $*"
go vet "$@"

log "go tool staticcheck $*"
go tool staticcheck "$@"

log "OK"
