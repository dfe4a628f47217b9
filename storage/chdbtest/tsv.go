//go:build chdb

package chdbtest

import (
	"fmt"
	"strings"
)

// nullCell is how TabSeparated writes NULL (and how Query returns it).
const nullCell = `\N`

// parseTSVWithNamesAndTypes decodes ClickHouse's TabSeparatedWithNamesAndTypes
// output: a line of column names, a line of column types, then one line per
// row, fields separated by tabs. Tabs, newlines and backslashes in values are
// always escaped, so splitting on them is safe.
//
// TabSeparated escapes (\t, \n, \\, \', \0, ...) the text of scalar values
// only: Array, Map and Tuple values are written in their quoted literal form
// ['a\tb'] whose escapes belong to the value's text, so those cells are
// returned as they are and all others are unescaped. The types line tells
// which is which.
func parseTSVWithNamesAndTypes(out []byte) ([][]string, error) {
	rows := [][]string{}
	if len(out) == 0 {
		return rows, nil // a statement without a result set
	}
	if out[len(out)-1] != '\n' {
		return nil, fmt.Errorf("chdbtest: output does not end in a newline: %q", truncate(out))
	}
	lines := strings.Split(string(out[:len(out)-1]), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("chdbtest: output has no names and types header (FORMAT clause in the query?): %q", truncate(out))
	}
	types := strings.Split(lines[1], "\t")
	if n := strings.Count(lines[0], "\t") + 1; n != len(types) {
		return nil, fmt.Errorf("chdbtest: header has %d names but %d types (FORMAT clause in the query?): %q", n, len(types), truncate(out))
	}
	literal := make([]bool, len(types))
	for i, t := range types {
		literal[i] = isCompositeType(unescapeTSV(t))
	}
	for _, line := range lines[2:] {
		cells := strings.Split(line, "\t")
		if len(cells) != len(types) {
			return nil, fmt.Errorf("chdbtest: row has %d fields, header has %d (several statements or a FORMAT clause in the query?): %q", len(cells), len(types), line)
		}
		for i, c := range cells {
			if !literal[i] && c != nullCell {
				cells[i] = unescapeTSV(c)
			}
		}
		rows = append(rows, cells)
	}
	return rows, nil
}

// isCompositeType reports whether values of the ClickHouse type typ are
// written in quoted literal form rather than as escaped text.
func isCompositeType(typ string) bool {
	for {
		switch {
		case strings.HasPrefix(typ, "LowCardinality("):
			typ = typ[len("LowCardinality("):]
		case strings.HasPrefix(typ, "Nullable("):
			typ = typ[len("Nullable("):]
		default:
			for _, p := range []string{"Array(", "Map(", "Tuple(", "Nested("} {
				if strings.HasPrefix(typ, p) {
					return true
				}
			}
			return false
		}
	}
}

// unescapeTSV undoes ClickHouse's TabSeparated escaping of a field.
func unescapeTSV(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case '0':
			c = 0
		case 'a':
			c = '\a'
		case 'v':
			c = '\v'
		}
		b = append(b, c) // \\ \' and anything else: the character itself
	}
	return string(b)
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
