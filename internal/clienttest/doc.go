// Package clienttest drives real end-user XMPP clients in tests: Converse.js
// in Debian's Chromium (through playwright-core, in web/) and Profanity in a
// tmux pane. scripts/install-deps.sh installs both. Every wait is bounded,
// and everything started stops when the test ends.
package clienttest
