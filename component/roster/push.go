package roster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// storeTimeout bounds a store call made on the read loop.
const storeTimeout = 5 * time.Second

const idPrefix = "roster."

// pushID names a roster push of op ("add" or "remove") for contact in
// user's roster: op and contact are in it, so that an error answered
// later (even after a restart) can be acted on, with a nonce and a mark
// (core.Core.Mark) over all of them and user, so that only an answer from
// user (see pushAnswer) to a push the gateway sent is.
func (r *Roster) pushID(op, contact, user string) string {
	b := make([]byte, 8)
	rand.Read(b)
	head := idPrefix + op + "." + base64.RawURLEncoding.EncodeToString([]byte(contact)) + "." + hex.EncodeToString(b)
	return head + "." + r.c.Mark(pushMarked(head, user))
}

// pushMarked is what a push's mark is made over: its id up to the mark,
// and the user it was sent to.
func pushMarked(head, user string) string { return head + "\x00" + user }

// parsePushID returns the op and contact of a push the gateway sent to
// user with id id, or ok false.
func (r *Roster) parsePushID(id, user string) (op, contact string, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return "", "", false
	}
	head, mark := id[:i], id[i+1:]
	want := r.c.Mark(pushMarked(head, user))
	if want == "" || !hmac.Equal([]byte(mark), []byte(want)) {
		return "", "", false
	}
	parts := strings.Split(head, ".")
	if len(parts) != 4 {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", "", false
	}
	return parts[1], string(b), true
}

// item is one jabber:iq:roster item.
type item struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr"`
	Groups       []string `xml:"group"`
}

type query struct {
	XMLName xml.Name `xml:"jabber:iq:roster query"`
	Items   []item   `xml:"item"`
}

// push sets (or, with subscription "remove", removes) contact in user's
// roster, on the privilege the user's server granted.
func (r *Roster) push(op, contact, user string, it item) stanza.IQ {
	it.JID = contact
	return stanza.IQ{Type: "set", ID: r.pushID(op, contact, user), From: r.c.Domain().String(), To: user,
		Payload: query{Items: []item{it}}}
}

// answer is what is read of the server's answer to a roster push: its
// error, if any, in whatever namespace the stream gives the <error/>.
type answer struct {
	Error *struct {
		Children []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"error"`
}

// condition returns the error's defined condition and text.
func (a *answer) condition() (cond, text string) {
	if a.Error == nil {
		return "", ""
	}
	for _, c := range a.Error.Children {
		switch {
		case c.XMLName.Space != stanza.NSStanzas:
		case c.XMLName.Local == "text":
			text += c.Text
		case cond == "":
			cond = c.XMLName.Local
		}
	}
	return cond, text
}

// pushAnswer handles the server's answer to a roster push: an IQ result or
// error with the id of a push the gateway sent, from the bare JID of the
// user it was sent to (a client could not send that; the id's mark ties
// it to the user). Other answers to the gateway JID are ignored, as the
// router would: any server can send an error with a push's id. An error
// is logged and, if the link still stands as pushed, the subscription
// presences are sent instead.
func (r *Roster) pushAnswer(ctx context.Context, _ router.Writer, s *router.Stanza) error {
	if !strings.HasPrefix(s.ID, idPrefix) || s.From.Resourcepart() != "" {
		return nil
	}
	user := s.From.Bare().String()
	op, contact, ok := r.parsePushID(s.ID, user)
	if !ok {
		r.log.Debug("an answer with a roster push's id that is no push of the gateway's to its sender; ignored", "from", user, "stanza_id", s.ID)
		return nil
	}
	if s.Type == "result" {
		r.log.Debug("roster push applied", "op", op, "user", user, "contact", contact)
		return nil
	}
	if !r.c.Allowed(user) {
		// Pushed before the operator took the user out of access.allow:
		// the fallback would tell them of the link, with its name.
		r.log.Debug("an answer to a roster push from a user no longer allowed; ignored", "user", user, "stanza_id", s.ID)
		return nil
	}
	var a answer
	if err := s.Decode(&a); err != nil {
		r.log.Warn("an answer to a roster push could not be read", "err", err, "stanza_id", s.ID)
	}
	cond, text := a.condition()
	if op == "remove" && cond == "item-not-found" {
		r.log.Info("contact already off the user's roster", "user", user, "contact", contact)
		return nil
	}
	r.log.Warn("roster push refused by the server; falling back to presence subscription",
		"op", op, "user", user, "contact", contact, "condition", cond, "text", text, "stanza_id", s.ID)
	c, err := jid.Parse(contact)
	if err != nil || c.Domainpart() != r.c.Domain().Domainpart() || c.Localpart() == "" {
		return nil
	}
	remote, err := r.c.Transport().ParseAddr(mapping.AddrOf(c))
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	store, name := r.c.Store(), r.c.Name()
	l, linked, err := store.Links().LinkOf(ctx, name, string(remote))
	if err != nil {
		r.log.Error("roster push fallback: reading the link failed", "err", err, "remote", remote)
		return nil
	}
	var stanzas []any
	switch {
	case op == "add" && linked && l.User == user:
		nick := l.Name
		if n := r.c.ContactName(contact); n != "" {
			nick = n
		}
		stanzas = []any{stanza.Presence{Type: "subscribe", From: contact, To: user, Nick: nick}}
	case op == "add" && r.signIn:
		// A contact of the user's own account (transports.Login): named
		// as the network names it.
		nick := r.c.ContactName(contact)
		if n, ok := r.c.Transport().(transports.Namer); ok && nick == "" {
			nick, _ = n.ContactName(ctx, user, remote)
		}
		stanzas = []any{stanza.Presence{Type: "subscribe", From: contact, To: user, Nick: nick}}
	case op == "remove" && !(linked && l.User == user):
		stanzas = unsubscribe(contact, user)
	default:
		return nil // the link changed since: nothing to make up for
	}
	if _, err := store.ToXMPP().Accept(ctx, name, "roster-fallback:"+s.ID, render(stanzas)...); err != nil {
		r.log.Error("roster push fallback: queueing failed", "err", err, "remote", remote)
		return nil
	}
	r.c.Queued()
	return nil
}
