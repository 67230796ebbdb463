//go:build !linux

package store

import "os"

// datasync flushes f to the disk (on macOS, with F_FULLFSYNC).
func datasync(f *os.File) error { return f.Sync() }
