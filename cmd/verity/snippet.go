package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/verityhq/verity/script"
)

func cmdSnippetExport(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "snippet export", "DIR\n\nWrites v1.js, its content-addressed copy and sri.json into DIR, for a CDN or static host in front of the collector.")
	if err := fs.Parse(args); err != nil {
		if helpAsked(args) {
			return nil
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() != 1 {
		return usagef("snippet export: want one folder, e.g. verity snippet export ./public/s")
	}
	dir := fs.Arg(0)
	if err := script.Export(dir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s and %s (integrity %s) and sri.json to %s\n",
		"v1.js", script.VersionedName(), script.V1SRI(), filepath.Clean(dir))
	fmt.Fprintf(e.stdout, "Serve them under /s/, then tag pages with:\n  <script defer src=\"https://cdn.example/s/%s\" integrity=\"%s\" crossorigin=\"anonymous\" data-site=\"pk_...\"></script>\n",
		script.VersionedName(), script.V1SRI())
	return nil
}
