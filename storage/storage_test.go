//go:build !chdb

package storage_test

import (
	"testing"

	"github.com/verityhq/verity/storage/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }
