package component

import "fmt"

// Limits on what one message from XMPP may carry, checked before it is
// queued (refused at once past them).
const (
	// maxIDLen bounds a message's stanza id and origin-id, and the ids it
	// refers to (a correction's, a reply's...): the store indexes them,
	// and PostgreSQL refuses an index row over 2,704 bytes. Clients use
	// UUIDs.
	maxIDLen = 256
	// maxAttachments bounds a message's attachments (XEP-0066): each is
	// fetched, and on Telegram sent as a message of its own. An MMS takes
	// 10.
	maxAttachments = 10
)

// overLimits returns the error that refuses a message carrying in's parts
// p past the limits above, or nil.
func overLimits(in inStanza, p parts) *stanzaError {
	ids := []string{in.ID, p.replyTo, p.retracts, p.reactTo}
	if in.OriginID != nil {
		ids = append(ids, in.OriginID.ID)
	}
	if in.Replace != nil {
		ids = append(ids, in.Replace.ID)
	}
	for _, id := range ids {
		if len(id) > maxIDLen {
			return newError("modify", "not-acceptable", fmt.Sprintf("a message id (or one it refers to) is longer than %d bytes", maxIDLen))
		}
	}
	if len(p.media) > maxAttachments {
		return newError("modify", "policy-violation", fmt.Sprintf("a message may carry at most %d attachments", maxAttachments))
	}
	return nil
}
