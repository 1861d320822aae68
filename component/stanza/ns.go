package stanza

// Namespaces of the stanzas and payloads the gateway reads and writes.
const (
	NSStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSReceipts  = "urn:xmpp:receipts"
	NSDiscoInfo = "http://jabber.org/protocol/disco#info"
	NSDiscoItem = "http://jabber.org/protocol/disco#items"
	NSGateway   = "jabber:iq:gateway"
	NSPing      = "urn:xmpp:ping"
	NSVersion   = "jabber:iq:version"
	NSRegister  = "jabber:iq:register"
	NSCorrect   = "urn:xmpp:message-correct:0"
	NSOOB       = "jabber:x:oob"
	NSNick      = "http://jabber.org/protocol/nick"
	NSChatState = "http://jabber.org/protocol/chatstates"
	NSCommands  = "http://jabber.org/protocol/commands"
	NSMarkers   = "urn:xmpp:chat-markers:0"
	NSAddress   = "http://jabber.org/protocol/address"
	NSData      = "jabber:x:data"
	NSReply     = "urn:xmpp:reply:0"
	NSFallback  = "urn:xmpp:fallback:0"
	NSRetract   = "urn:xmpp:message-retract:1"
	NSReacts    = "urn:xmpp:reactions:0"
	NSMUC       = "http://jabber.org/protocol/muc"
	NSMUCUser   = "http://jabber.org/protocol/muc#user"
	NSDelay     = "urn:xmpp:delay"
)
