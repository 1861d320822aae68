// Package logbuf is a log buffer for tests: what goroutines write to it
// concurrently is kept whole, and can be read while they write.
package logbuf
