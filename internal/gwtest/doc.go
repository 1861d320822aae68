// Package gwtest is the gateway's test environment, built in one place.
//
//   - Start (in a test) and New (in make demo and make bench) run an XMPP
//     server, Prosody or ejabberd, with the gateway's components, the Twilio
//     and Telegram Bot API fakes, and a free loopback port for the gateway's
//     HTTP listener.
//   - Config is the gateway's configuration as a struct marshalled to YAML,
//     in place of text assembled with fmt.Sprintf: a key is spelled once,
//     and a caller says only what it changes.
//   - Process runs the gateway's binary on a Config as an operator would,
//     and stops it with a signal.
//
// The e2e tests, the fault suite, the failover test, make bench and make
// demo all start from it.
//
// The end-to-end tests stay in cmd/xmppgw, beside package main: most run
// the gateway in-process through its serve function, which a package here
// could reach only if main's wiring moved into an importable package.
package gwtest
