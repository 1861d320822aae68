// Package links binds a transport's chats to XMPP users and unbinds them,
// with the same stanzas and notices whoever asks: an admin's ad-hoc
// command or a user's chat command in the gateway, or the operator's shell
// (xmppgw links), which has no session and whose stanzas the running
// gateway writes from the store.
package links
