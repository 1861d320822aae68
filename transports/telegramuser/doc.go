// Package telegramuser is the "telegram-user" transport: each XMPP user
// signs in to Telegram with their own account, over MTProto (gotd/td,
// API layer 170): their private chats become contacts on the gateway, and
// their groups, supergroups and channels rooms.
//
// Unlike the Bot API transport ("telegram"), which bridges the chats that
// talk to one bot, this one bridges everything the user's account sees.
// Accounts change as users sign in and out (transports.Login): a user's
// identity is their Telegram user id.
//
// Addresses are Telegram peer ids as the Bot API writes them: a user
// "123456789", a basic group "-5000001", a supergroup or channel
// "-1001500000001". A message's provider id names the account and the
// message (a channel's with the channel: its ids are its own); see ids.go.
//
// Nothing is lost: updates are read with updates.getDifference from the
// state kept in the store (pts, qts, date, seq), each channel's with
// updates.getChannelDifference from its own pts (channels.go), and a state
// advances only past updates the core has stored. The reading waits out a
// FLOOD_WAIT; a send returns it at once, for the core to retry after it
// (send.go). The MTProto session (its auth key) is kept in the store, encrypted with
// AES-256-GCM under a key derived from the config's session_key.
package telegramuser
