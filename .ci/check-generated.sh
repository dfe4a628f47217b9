#!/usr/bin/env bash
# Generated code: fails when `go tool templ generate` changes any *_templ.go
# file (a .templ edited without regenerating, a generated file edited by
# hand, a generated file left behind by a deleted .templ) or creates one git
# does not track (a new .templ whose *_templ.go was never committed).
# It compares the *_templ.go files before and after generating, so it also
# works in a work tree with uncommitted changes (git status --porcelain
# alone would blame those); in CI the tree is clean, so this is "git diff
# --exit-code plus no new untracked *_templ.go". The regenerated files are
# left in place: commit them.
set -euo pipefail

log() { printf 'generated: %s\n' "$*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"

# The machine's go env says GOTOOLCHAIN=local; go.mod pins the patched
# toolchain, which only `auto` honours. An explicit GOTOOLCHAIN is respected.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

# snapshot prints "<content hash> <path>" for every *_templ.go git sees
# (tracked, or untracked and not ignored); a tracked file that is gone
# hashes as "deleted".
snapshot() {
	git ls-files -z --cached --others --exclude-standard -- '*_templ.go' |
		while IFS= read -r -d '' f; do
			if [[ -f "$f" ]]; then
				printf '%s %s\n' "$(git hash-object -- "$f")" "$f"
			else
				printf 'deleted %s\n' "$f"
			fi
		done | LC_ALL=C sort -u
}

before="$(snapshot)"

log "go tool templ generate"
if ! out="$(go tool templ generate -log-level warn 2>&1)"; then
	printf '%s\n' "$out" >&2
	log "FAILED: templ generate failed (errors above)"
	exit 1
fi

after="$(snapshot)"

# Paths whose line differs: changed, created or deleted by the generator.
changed="$(LC_ALL=C comm -3 <(printf '%s\n' "$before") <(printf '%s\n' "$after") |
	sed -e 's/^[[:space:]]*//' -e 's/^[^ ]* //' | LC_ALL=C sort -u | sed '/^$/d')"

if [[ -z "$changed" ]]; then
	log "OK"
	exit 0
fi

log "FAILED: templ generate changed the generated code, so the *_templ.go files did not match their .templ sources:"
existed() { awk -v f="$1" 'substr($0, index($0, " ") + 1) == f { found = 1 } END { exit !found }' <<<"$before"; }
tracked=()
while IFS= read -r f; do
	if git ls-files --error-unmatch -- "$f" >/dev/null 2>&1; then
		tracked+=("$f")
		how=""
	else
		how=", not tracked by git"
	fi
	if [[ ! -e "$f" ]]; then
		state="deleted (its .templ is gone)$how"
	elif [[ -z "$how" ]] || existed "$f"; then
		state="modified$how"
	else
		state="created$how"
	fi
	log "  $f: $state"
done <<<"$changed"
if ((${#tracked[@]} > 0)); then
	git --no-pager diff --stat -- "${tracked[@]}" | sed 's/^/generated:   /' >&2
fi
log "run: go tool templ generate, then commit the *_templ.go files (git add them if new)"
exit 1
