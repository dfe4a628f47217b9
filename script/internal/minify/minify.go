// Package minify turns the snippet's source into what browsers load, with
// esbuild's Go API (no Node.js at build or run time). Only the snippet's
// generator and tests import it, so the verity binary does not link
// esbuild.
package minify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Options are the esbuild transform options of every build of the snippet.
// The source is already an IIFE, so no format wrapper is added; ES2019 keeps
// async functions and `**` native while covering every browser that has
// the fetch keepalive and PerformanceObserver APIs the snippet relies on.
func Options() api.TransformOptions {
	return api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2019,
		Platform:          api.PlatformBrowser,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Charset:           api.CharsetASCII,
		LegalComments:     api.LegalCommentsNone,
		Sourcefile:        "verity.js",
	}
}

// Minify returns the minified snippet, or an error listing every esbuild
// error with its position.
func Minify(src []byte) ([]byte, error) {
	res := api.Transform(string(src), Options())
	if len(res.Errors) > 0 {
		var msgs []string
		for _, m := range res.Errors {
			pos := ""
			if m.Location != nil {
				pos = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column)
			}
			msgs = append(msgs, pos+m.Text)
		}
		return nil, errors.New("minify: " + strings.Join(msgs, "; "))
	}
	// A warning means the source does something esbuild doubts (a
	// duplicate key, an always-false comparison): treat it as an error.
	if len(res.Warnings) > 0 {
		m := res.Warnings[0]
		if m.Location != nil {
			return nil, fmt.Errorf("minify: warning at %s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column, m.Text)
		}
		return nil, fmt.Errorf("minify: warning: %s", m.Text)
	}
	return res.Code, nil
}
