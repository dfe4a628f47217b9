package storage

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Dialect is what the SQL Verity sends depends on: the server's version.
// ClickHouse 18.16 (Debian's package, used in CI) and 24.x–26.x (what users
// run) differ in which settings exist; migrations are rendered for the server
// they run on.
type Dialect struct {
	Major, Minor int
}

// ParseVersion reads "18.16.1" or "26.5.1.1".
func ParseVersion(v string) (Dialect, error) {
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return Dialect{}, fmt.Errorf("storage: unrecognised ClickHouse version %q", v)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Dialect{Major: major, Minor: minor}, nil
}

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

// AtLeast reports whether the server is major.minor or newer.
func (d Dialect) AtLeast(major, minor int) bool {
	return d.Major > major || d.Major == major && d.Minor >= minor
}

func (d Dialect) String() string { return fmt.Sprintf("ClickHouse %d.%d", d.Major, d.Minor) }

// DDLSettings are the settings a CREATE statement needs. LowCardinality was
// experimental before 19.0 and must be enabled per query there; current
// servers reject the setting as unknown.
func (d Dialect) DDLSettings() clickhouse.Settings {
	if !d.AtLeast(19, 0) {
		return clickhouse.Settings{"allow_experimental_low_cardinality_type": 1}
	}
	return nil
}

// AddColumn is "ADD COLUMN IF NOT EXISTS" where the server knows it, else
// "ADD COLUMN": 18.16 rejects the IF NOT EXISTS (Migrate then treats an
// existing column as added; see columnExists). 20.1 is a version known to
// have it; in between, the plain form works too.
func (d Dialect) AddColumn() string {
	if d.AtLeast(20, 1) {
		return "ADD COLUMN IF NOT EXISTS"
	}
	return "ADD COLUMN"
}

// MinSupported is the oldest server Verity runs on.
var MinSupported = Dialect{Major: 18, Minor: 16}
