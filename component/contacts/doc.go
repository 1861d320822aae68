// Package contacts is the gateway's address book: names for phone numbers
// and for the contacts of transports (a Telegram chat), from the config's
// contacts: map and from the store, where `xmppgw contacts import` puts
// the names of a vCard file. The gateway shows a known name as the roster
// item's name, as the XEP-0172 nick in subscription requests and messages,
// as the vCard's FN, and in alert acknowledgements.
package contacts
