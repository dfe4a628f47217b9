package storage_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every query the storage layer sends about event data must be bound to
// one site: a query on events, rejections or quarantines without
// "site_id = ?" could leak another tenant's numbers. This reads the package's own source, so a
// new query cannot forget.
func TestEveryEventQueryIsBoundToASite(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	readsEventData := regexp.MustCompile(`(?i)\bFROM\s+(events|rejections|quarantines)\b`)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !readsEventData.MatchString(s) {
				return true
			}
			checked++
			if !strings.Contains(s, "site_id = ?") {
				t.Errorf("%s: query reads event data without binding site_id:\n%s", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("found only %d event-data queries; the scan is broken", checked)
	}
}
