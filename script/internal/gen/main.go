// Command gen minifies script/src/verity.js into script/dist/v1.min.js. It
// runs from `go generate ./script/` (with the script folder as its working
// directory); script's TestDistUpToDate fails when its output is stale.
package main

import (
	"fmt"
	"os"

	"github.com/verityhq/verity/script/internal/minify"
)

func main() {
	if err := run("src/verity.js", "dist/v1.min.js"); err != nil {
		fmt.Fprintln(os.Stderr, "script/internal/gen:", err)
		os.Exit(1)
	}
}

func run(srcPath, outPath string) error {
	src, err := os.ReadFile(srcPath)
	if err != nil {
		return err
	}
	out, err := minify.Minify(src)
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, out, 0o644)
}
