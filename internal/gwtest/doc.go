// Package gwtest is the gateway's test environment: Start runs an XMPP
// server with the gateway's components, the Twilio and Telegram Bot API
// fakes and a free port, and Config is the gateway's configuration as a
// struct marshalled to YAML, in place of text assembled with fmt.Sprintf,
// so a key is spelled once and a test says only what it changes. The e2e
// tests, the fault suite and the failover test (cmd/xmppgw) start it;
// make bench and make demo, which run outside package testing, write their
// Config with it.
//
// The end-to-end tests stay in cmd/xmppgw, beside package main: they run
// the gateway in-process through its serve function, which a package here
// could reach only if main's wiring moved into an importable package.
package gwtest
