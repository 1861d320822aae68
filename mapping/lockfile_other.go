//go:build !unix

package mapping

import "os"

// lockFile does nothing where flock(2) is missing: two processes on one
// SQLite file are not told apart there.
func lockFile(f *os.File) error { return nil }
