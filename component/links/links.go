package links

import (
	"context"
	"fmt"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// Service links the chats of one transport.
type Service struct {
	Store     *mapping.Store
	Transport string  // the transport's name
	Domain    jid.JID // the component's domain
	Network   string  // the network's name, as in "Telegram chat"
	// Contacts, if set, returns the module that puts contacts on users'
	// rosters (package roster, with the server's privileges); without one,
	// or nil, a contact asks for a presence subscription.
	Contacts func() core.Contacts
}

// Add links remote to user, as an operator asked, with the stanzas that
// make remote user's contact and a chat message from the gateway telling
// user so. An error wrapping mapping.ErrStaticLink or
// mapping.ErrLinkedToOther means remote is linked already.
func (s *Service) Add(ctx context.Context, remote transports.Addr, user string) error {
	contact, err := mapping.ContactJID(remote, s.Domain.Domainpart())
	if err != nil {
		return err
	}
	notice := fmt.Sprintf("An administrator linked %s chat %s to you: it is your contact %s.", s.Network, remote, contact)
	return s.Store.Links().AddLink(ctx, s.Transport, string(remote), user,
		append(s.AddContact(contact.String(), user, ""), s.tell(user, notice))...)
}

// Remove unlinks remote, with the stanzas that take it off its user's
// roster and tell the user, and returns that user. Errors are the store's:
// mapping.ErrStaticLink, mapping.ErrNotLinked...
func (s *Service) Remove(ctx context.Context, remote transports.Addr) (user string, err error) {
	return s.Store.Links().Unlink(ctx, s.Transport, string(remote), func(user string) [][]byte { return s.Unlinked(user, remote) })
}

// Unlinked returns the stanzas that take remote off user's roster and tell
// user it is unlinked.
func (s *Service) Unlinked(user string, remote transports.Addr) [][]byte {
	contact, err := mapping.ContactJID(remote, s.Domain.Domainpart())
	if err != nil {
		return nil
	}
	return append(s.DropContact(contact.String(), user),
		s.tell(user, fmt.Sprintf("Unlinked %s chat %s.", s.Network, remote)))
}

// AddContact returns the stanzas that make contact (named nick, if known)
// a contact of user: the Contacts module's, else the contact's
// subscription request.
func (s *Service) AddContact(contact, user, nick string) [][]byte {
	if c := s.contacts(); c != nil {
		return renderAll(c.AddContact(contact, user, nick))
	}
	return [][]byte{stanza.Render(stanza.Presence{Type: "subscribe", From: contact, To: user, Nick: nick})}
}

// DropContact returns the stanzas that take contact off user's roster: the
// Contacts module's, else the contact goes offline and cancels both
// subscriptions.
func (s *Service) DropContact(contact, user string) [][]byte {
	if c := s.contacts(); c != nil {
		return renderAll(c.DropContact(contact, user))
	}
	return [][]byte{
		stanza.Render(stanza.Presence{Type: "unavailable", From: contact, To: user}),
		stanza.Render(stanza.Presence{Type: "unsubscribed", From: contact, To: user}),
		stanza.Render(stanza.Presence{Type: "unsubscribe", From: contact, To: user}),
	}
}

func (s *Service) contacts() core.Contacts {
	if s.Contacts == nil {
		return nil
	}
	return s.Contacts()
}

// tell is a chat message from the gateway to user.
func (s *Service) tell(user, body string) []byte {
	return stanza.Render(stanza.Message{Type: "chat", From: s.Domain.String(), To: user, Body: body})
}

func renderAll(vs []any) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = stanza.Render(v)
	}
	return out
}
