// Package stanza holds the XMPP stanzas the gateway writes, the payloads
// they carry (XEP-0184 receipts, XEP-0308 corrections, XEP-0045 occupant
// items, XEP-0004 forms and the rest), RFC 6120 stanza errors, and their
// serialisation. It depends on nothing else of the gateway, so that the
// core and every concern package (MUC, vCards, commands...) share one set.
package stanza
