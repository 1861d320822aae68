// Package gwtest builds the gateway's configuration for the tests, the
// fault suite, make bench and make demo: a struct (Config) marshalled to
// YAML, in place of text assembled with fmt.Sprintf in each of them, so a
// key is spelled once and a test says only what it changes.
package gwtest
