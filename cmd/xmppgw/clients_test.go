//go:build integration

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"xmppgw/internal/fake/botfake"
)

// The end-user client tests: real clients (Converse.js in Chromium,
// Profanity in tmux) against Prosody, the gateway and the provider fakes.
// Their screenshots, the browser's console and the gateway's log are kept
// under clientOut.

// clientOut returns the directory for t's screenshots and logs:
// $XMPPGW_CLIENT_OUT/NAME (make test sets it to .clients), or a directory
// under the system's temporary one.
func clientOut(t *testing.T) string {
	t.Helper()
	root := os.Getenv("XMPPGW_CLIENT_OUT")
	if root == "" {
		root = filepath.Join(os.TempDir(), "xmppgw-clients")
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_"))
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client test output (screenshots, browser console, gateway log): %s", dir)
		}
	})
	return dir
}

// startClientEnv starts Prosody (serving WebSocket too), the fakes and the
// gateway for alice, whose number is aliceNum, with the Telegram chats
// linked statically; the Telegram fake knows tgChats (their names) from the
// start.
func startClientEnv(t *testing.T, out string, chats map[string]string, tgChats ...botfake.Chat) *env {
	t.Helper()
	return startEnv(t, envOptions{webSocket: true, chats: chats, tgChats: tgChats, logFile: filepath.Join(out, "gateway.log")})
}
