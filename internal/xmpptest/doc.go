// Package xmpptest runs a real Prosody XMPP server on free loopback ports and
// provides a small c2s client, for integration tests and demos.
//
// The core API (StartProsody, Dial, SendXMPP) does not depend on package
// testing; StartProsodyT and DialT are thin helpers for tests that register
// cleanups and fail the test on error.
//
// Prosody, prosodyctl and sendxmpp must be installed (scripts/install-deps.sh).
// Tests must not skip when they are missing: StartProsodyT fails the test.
//
// A typical test:
//
//	p := xmpptest.StartProsodyT(t, xmpptest.ProsodyConfig{
//		Domain:     "example.test",
//		Components: map[string]string{"sms.example.test": "s3cret"},
//		Users:      map[string]string{"alice": "pw", "bob": "pw"},
//	})
//	alice := xmpptest.DialT(t, p.C2SAddr, jid.MustParse("alice@example.test"), "pw")
//	_ = alice.Send(ctx, "<message to='bob@example.test' type='chat'><body>hi</body></message>")
//
// Prosody is configured without TLS and without s2s; it runs as root if the
// caller is root (run_as_root). Each Prosody runs in its own process group and
// is killed with SIGKILL if the process that started it dies (Linux).
package xmpptest
