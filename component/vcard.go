package component

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/mapping"
	"xmppgw/transports"
)

const nsVCard = "vcard-temp"

// vCard is an XEP-0054 vCard: a contact's name and picture.
type vCard struct {
	XMLName xml.Name `xml:"vcard-temp vCard"`
	FN      string   `xml:"FN,omitempty"`
	Photo   *vPhoto  `xml:"PHOTO,omitempty"`
}

type vPhoto struct {
	Type   string `xml:"TYPE"`
	BinVal string `xml:"BINVAL"`
}

// avatarTimeout bounds fetching a contact's picture for its vCard.
const avatarTimeout = 15 * time.Second

// vcard answers an XEP-0054 vCard request for a contact: its name (a
// linked chat's title or person's name, or the address) and, where the
// transport can fetch it, its picture. The picture is fetched off the read
// loop; the answer then goes through the queue to XMPP.
func (g *Gateway) vcard(t router.Writer, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	if !g.allowed(user) {
		g.reply(t, in, from, to, newError("auth", "forbidden", user+" may not use this gateway"))
		return
	}
	remote, err := g.o.Transport.ParseAddr(mapping.AddrOf(to))
	if err != nil {
		g.reply(t, in, from, to, newError("modify", "jid-malformed", err.Error()))
		return
	}
	card := vCard{FN: string(remote)}
	if g.linker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		l, ok, err := g.o.Store.LinkOf(ctx, g.name, string(remote))
		cancel()
		switch {
		case err != nil:
			g.reply(t, in, from, to, storeError(err))
			return
		case !ok || l.User != user:
			g.reply(t, in, from, to, newError("cancel", "item-not-found", string(remote)+" is not a chat linked to "+user))
			return
		case l.Name != "":
			card.FN = l.Name
		}
	}
	answer := func(c vCard) []byte {
		return render(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: c})
	}
	av, ok := g.o.Transport.(transports.Avatars)
	if !ok {
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: card})
		return
	}
	select {
	case g.avatars <- struct{}{}:
	default: // too many fetches under way: the name only
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: card})
		return
	}
	go func() {
		defer func() { <-g.avatars }()
		ctx, cancel := context.WithTimeout(context.Background(), avatarTimeout)
		defer cancel()
		data, mimeType, err := av.Avatar(ctx, remote)
		stanzas := [][]byte{nil}
		if err != nil {
			g.log.Info("cannot fetch a contact's picture; its vCard has none", "remote", remote, "err", err)
		} else {
			if len(data) > 0 {
				card.Photo = &vPhoto{Type: mimeType, BinVal: base64.StdEncoding.EncodeToString(data)}
			}
			// XEP-0153: a new or changed picture is announced in the
			// contact's presence, after the answer.
			stanzas = append(stanzas, g.learnAvatar(remote, data, user)...)
		}
		stanzas[0] = answer(card)
		key := "vcard:" + from.String() + ":" + in.ID + ":" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if _, err := g.o.Store.Accept(ctx, g.name, key, stanzas...); err != nil {
			g.log.Warn("cannot queue a vCard answer", "err", err)
			return
		}
		wake(g.wakeIn)
	}()
}
