// Command xmppgw-demo runs the gateway end to end on loopback and prints each
// hop: a throwaway Prosody, Prometheus Alertmanager, the gateway binary with
// its SQLite store, and local Twilio-compatible and Telegram Bot API
// sandboxes. First the on-call loop: an alert fires in Alertmanager, pages a
// phone and alice with a code, the phone answers "ack" by SMS, everyone is
// told, and the escalation to bob does not happen. Then alice chats with the
// phone, and links a Telegram chat with a one-time code and chats with it.
// Last, alice logs in to her own Telegram account (the telegram-user
// transport, against an in-process MTProto server) with an XEP-0050
// command, gets her Telegram contact in her roster, and chats with it.
// `make demo` runs it.
package main
