package component

import "xmppgw/component/stanza"

// Short names in the core for the stanza package's types, functions and
// namespaces, which the concern packages use directly.

type (
	message       = stanza.Message
	receipt       = stanza.Receipt
	replace       = stanza.Replace
	originID      = stanza.OriginID
	oob           = stanza.OOB
	presence      = stanza.Presence
	iq            = stanza.IQ
	stanzaError   = stanza.Error
	condition     = stanza.Condition
	rawReader     = stanza.RawReader
	reactions     = stanza.Reactions
	applyTo       = stanza.ApplyTo
	replyRef      = stanza.ReplyRef
	fallback      = stanza.Fallback
	fallbackRange = stanza.FallbackRange
	stanzaID      = stanza.StanzaID
	vcardUpdate   = stanza.VCardUpdate
	addresses     = stanza.Addresses
	address       = stanza.Address
	dataForm      = stanza.Form
	formField     = stanza.FormField
	formOption    = stanza.FormOption
)

var (
	newError     = stanza.NewError
	render       = stanza.Render
	newRawReader = stanza.NewRawReader
)

const (
	nsStanzas   = stanza.NSStanzas
	nsReceipts  = stanza.NSReceipts
	nsDiscoInfo = stanza.NSDiscoInfo
	nsDiscoItem = stanza.NSDiscoItem
	nsGateway   = stanza.NSGateway
	nsPing      = stanza.NSPing
	nsVersion   = stanza.NSVersion
	nsRegister  = stanza.NSRegister
	nsCorrect   = stanza.NSCorrect
	nsOOB       = stanza.NSOOB
	nsNick      = stanza.NSNick
	nsChatState = stanza.NSChatState
	nsCommands  = stanza.NSCommands
	nsMarkers   = stanza.NSMarkers
	nsAddress   = stanza.NSAddress
	nsData      = stanza.NSData
	nsReply     = stanza.NSReply
	nsFallback  = stanza.NSFallback
	nsRetract   = stanza.NSRetract
	nsReacts    = stanza.NSReacts
)
