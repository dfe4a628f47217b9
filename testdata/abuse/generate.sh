#!/usr/bin/env bash
# Regenerates the User-Agent corpora of the abuse evaluation from pinned npm
# packages (see README.md beside this file). Run from anywhere; needs npm and
# node. The output is deterministic for the pinned versions.
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent user-agents@2.1.198 top-user-agents@2.1.138 es6-crawler-detect@3.3.0 crawler-user-agents@1.60.0 >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done

node - "$out" <<'JS'
const fs = require("fs");
const [out] = process.argv.slice(2);
const lines = (file) => fs.readFileSync(file, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
// A User-Agent must fit in an HTTP header: no control characters.
const sendable = (ua) => ua !== "" && !/[\x00-\x1f\x7f]/.test(ua);
const dedup = (list) => [...new Set(list)];
const write = (name, header, rows) => {
  fs.writeFileSync(`${out}/${name}`, (header ? header + "\n" : "") + rows.join("\n") + "\n");
  console.log(`${name}: ${rows.length} rows`);
};

// The build lists' own examples: crawler-user-agents' instances (the strings
// each pattern was written for).
const cua = JSON.parse(fs.readFileSync("crawler-user-agents-1.60.0/package/crawler-user-agents.json", "utf8"));
const inLists = dedup(cua.flatMap((e) => e.instances || []).filter(sendable));
write("crawlers-in-lists.txt", "", inLists);

// Held out: Crawler-Detect's crawler test set, as shipped by es6-crawler-detect,
// minus any string that is also an instance above.
const seen = new Set(inLists);
const heldOut = dedup(lines("es6-crawler-detect-3.3.0/package/test/lib/database/crawlers.txt").filter((ua) => sendable(ua) && !seen.has(ua)));
write("crawlers-held-out.txt", "", heldOut);

// Real browsers: Intoli's weighted sample of real visits (one row per visit
// profile, so frequent browsers repeat, as in real traffic): every row whose
// index is 0, 3 or 6 mod 10, 3,000 of the 10,000.
const intoli = JSON.parse(fs.readFileSync("user-agents-2.1.198/package/dist/user-agents.json", "utf8"));
const rows = intoli
  .filter((_, i) => [0, 3, 6].includes(i % 10))
  .filter((p) => sendable(p.userAgent))
  .map((p) => [p.userAgent, p.platform, p.language || "", `${p.screenWidth}x${p.screenHeight}`, `${p.viewportWidth}x${p.viewportHeight}`, p.deviceCategory].join("\t"));
write("browsers-intoli.tsv", "ua\tplatform\tlanguage\tscreen\tviewport\tdevice", rows);

// The 100 most common User-Agents seen by microlink.io.
write("browsers-top.txt", "", dedup(JSON.parse(fs.readFileSync("top-user-agents-2.1.138/package/src/index.json", "utf8")).filter(sendable)));
JS

cp user-agents-2.1.198/package/LICENSE "$out/LICENSE-user-agents"
cp top-user-agents-2.1.138/package/LICENSE.md "$out/LICENSE-top-user-agents"
cp es6-crawler-detect-3.3.0/package/LICENSE "$out/LICENSE-es6-crawler-detect"
cp crawler-user-agents-1.60.0/package/LICENSE "$out/LICENSE-crawler-user-agents"
chmod 644 "$out"/LICENSE-*
