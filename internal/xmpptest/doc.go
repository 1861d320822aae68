// Package xmpptest runs a real XMPP server, Prosody or ejabberd, on free
// loopback ports and provides a small c2s client, for integration tests and
// demos.
//
// The core API (StartProsody, StartEjabberd, StartServer, Dial, SendXMPP) does
// not depend on package testing; StartProsodyT, StartEjabberdT, StartServerT
// and DialT are thin helpers for tests that register cleanups and fail the
// test on error. Both servers implement Server, so a test can run against each:
//
//	for _, kind := range xmpptest.Servers {
//		t.Run(kind, func(t *testing.T) {
//			srv := xmpptest.StartServerT(t, kind, xmpptest.ServerConfig{
//				Domain:     "example.test",
//				Components: map[string]string{"sms.example.test": "s3cret-s3cret-s3cret"},
//				Users:      map[string]string{"alice": "pw", "bob": "pw"},
//			})
//			alice := xmpptest.DialT(t, srv.C2S(), jid.MustParse("alice@example.test"), "pw")
//			_ = alice.Send(ctx, "<message to='bob@example.test' type='chat'><body>hi</body></message>")
//		})
//	}
//
// Prosody and prosodyctl, ejabberd (ejabberdctl and Erlang) and sendxmpp must
// be installed: `make deps` (scripts/install-deps.sh) does it. Tests must not
// skip when they are missing: the ...T helpers fail the test.
//
// Both servers are configured without TLS and without s2s, on 127.0.0.1 only.
// Prosody runs as root if the caller is root (run_as_root); ejabberd runs as
// the caller, whoever it is, from a patched copy of ejabberdctl, with Erlang
// distribution on a private loopback port instead of epmd (see Ejabberd).
// Each server runs in its own process group and is killed with SIGKILL if the
// process that started it dies (Linux).
//
// Behaviour that differs between the two and that tests may meet:
//   - A message to a component that is not connected bounces with
//     wait/remote-server-timeout from Prosody, and with auth/forbidden from
//     ejabberd (it hands the unknown domain to s2s, which is denied here).
//   - ejabberd delivers stored offline messages by routing them anew once the
//     user's initial presence is processed, so a message arriving live at that
//     moment can overtake them; Prosody delivers them first.
//   - ejabberd's ejabberd_service routes every domain of the listener to each
//     component connection unless global_routes is false (it is, here).
package xmpptest
