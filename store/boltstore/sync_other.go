//go:build !linux

package boltstore

import "os"

// fdatasync flushes f's data (a full fsync where fdatasync is not offered).
func fdatasync(f *os.File) error { return f.Sync() }

// openDirect returns nil: direct I/O is used on Linux only.
func openDirect(string) *os.File { return nil }
