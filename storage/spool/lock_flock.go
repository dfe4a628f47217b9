//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package spool

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive, non-blocking advisory lock on the open
// directory d, so that a second Spool (in this process or another, e.g. an
// overlapping deploy on a shared volume) cannot hand out the same sequence
// numbers and overwrite records. The kernel drops the lock when d is closed,
// including when the process dies.
func lockDir(d *os.File) error {
	err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("directory is in use by another spool: %w", err)
	}
	return err
}
