//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package spool

import "os"

// lockDir does nothing on platforms without flock(2): there, the caller must
// make sure that only one Spool uses a directory at a time.
func lockDir(*os.File) error { return nil }
