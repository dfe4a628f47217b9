package views

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// StaticPrefix is the URL path the files in Static are served under.
const StaticPrefix = "/static"

//go:embed static
var embedded embed.FS

// Static holds the dashboard's static files, rooted so that "dashboard.css"
// is served at StaticPrefix + "/dashboard.css". They are compiled into the
// binary.
var Static = mustSub(embedded, "static")

// stylesheetURL carries a hash of the file's content, so it may be cached
// for a long time: a changed stylesheet gets a new URL.
var stylesheetURL = AssetURL("dashboard.css")

// htmxURL is the vendored htmx (see vendor-htmx.sh), versioned the same way.
var htmxURL = AssetURL("htmx.min.js")

// htmxConfig keeps htmx within the Content-Security-Policy and away from
// secrets: no inline indicator styles, no eval, no scripts from swapped
// content, requests to this origin only, and no history cache (it would
// copy pages, shown-once keys among them, into localStorage). Error
// responses are swapped in too, so a form with a mistake shows its message.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,` +
	`"historyCacheSize":0,"refreshOnHistoryMiss":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}`

// AssetURL returns the URL of the static file name, versioned by a hash of
// its content. It panics when name is not embedded: a build mistake that
// surfaces when the package is initialised.
func AssetURL(name string) string {
	b, err := fs.ReadFile(Static, name)
	if err != nil {
		panic("views: static file missing: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return StaticPrefix + "/" + name + "?v=" + hex.EncodeToString(sum[:8])
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("views: " + err.Error())
	}
	return sub
}
