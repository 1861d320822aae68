// Package scripts holds the repository's shell scripts (install-deps.sh
// installs what the demo and the tests need) and, in its tests, checks of
// what they do.
package scripts
