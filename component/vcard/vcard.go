package vcard

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"time"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// Namespaces of XEP-0054 and XEP-0153.
const (
	NS       = "vcard-temp"
	NSUpdate = "vcard-temp:x:update"
)

const (
	// fetchTimeout bounds fetching a contact's picture.
	fetchTimeout = 15 * time.Second
	// storeTimeout bounds the handler's look-up of a link, and queueing
	// an answer.
	storeTimeout = 5 * time.Second
	// maxFetches bounds the fetches under way at once (pictures, and the
	// names of a signed-in account's contacts), for vCards and presences
	// together.
	maxFetches = 4
)

func init() {
	core.Register(core.Module{Name: "vcard", New: func(c core.Core) core.Instance { return New(c) }})
}

// Card is an XEP-0054 vCard: a contact's name and picture.
type Card struct {
	XMLName xml.Name `xml:"vcard-temp vCard"`
	FN      string   `xml:"FN,omitempty"`
	Photo   *Photo   `xml:"PHOTO,omitempty"`
}

// Photo is a vCard's picture.
type Photo struct {
	Type   string `xml:"TYPE"`
	BinVal string `xml:"BINVAL"`
}

// Instance is the module built for one gateway.
type Instance struct {
	c      core.Core
	linked bool               // contacts are linked one by one (transports.Linker)
	av     transports.Avatars // nil unless the transport fetches pictures
	// namer names the contacts of a transport users sign in to
	// (transports.Login), whose names are not in links.
	namer transports.Namer
	// perUser: users sign in to accounts of their own (transports.Login),
	// and each sees its contacts' pictures through its own.
	perUser bool
	// fetches bounds the fetches under way at once.
	fetches chan struct{}
	hashes  hashes
	now     func() time.Time
}

var (
	_ core.Instance = (*Instance)(nil)
	_ core.Avatars  = (*Instance)(nil)
)

// New returns the module for c's gateway. It starts nothing.
func New(c core.Core) *Instance {
	v := &Instance{c: c, fetches: make(chan struct{}, maxFetches), now: time.Now}
	_, v.linked = c.Transport().(transports.Linker)
	v.av, _ = c.Transport().(transports.Avatars)
	if _, login := c.Transport().(transports.Login); login {
		v.namer, _ = c.Transport().(transports.Namer)
		v.perUser = true
	}
	return v
}

// Routes implements core.Instance: vCard gets to contacts, rooms and
// occupants (whose vCard is their room's).
func (v *Instance) Routes() []router.Route {
	contacts := router.Contact | router.Room
	return []router.Route{{Kind: router.IQ, Types: []string{"get"}, Payload: xml.Name{Space: NS, Local: "vCard"},
		Targets: contacts | router.Occupant, Features: []router.Feature{{Var: NS, Targets: contacts}},
		Handler: router.HandlerFunc(v.handle)}}
}

// handle answers an XEP-0054 vCard request for a contact: its name (the
// address book's, a linked chat's title or person's name, the name a
// signed-in account knows it by, or the address) and, where the transport
// can fetch it, its picture. What must be fetched is fetched off the read
// loop, within the fetch bound; the answer then goes through the queue to
// XMPP, followed by the contact's presence if its picture's hash is new
// (XEP-0153). With every fetch slot taken, it is answered at once with
// what is known. A get carries nothing to read: the request's payload is
// not decoded.
func (v *Instance) handle(ctx context.Context, w router.Writer, s *router.Stanza) error {
	user := s.From.Bare().String()
	if !v.c.Allowed(user) {
		return stanza.NewError("auth", "forbidden", user+" may not use this gateway")
	}
	remote, err := v.c.Transport().ParseAddr(mapping.AddrOf(s.To))
	if err != nil {
		return stanza.NewError("modify", "jid-malformed", err.Error())
	}
	card := Card{FN: string(remote)}
	if v.linked {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		l, ok, err := v.c.Store().Links().LinkOf(ctx, v.c.Name(), string(remote))
		cancel()
		switch {
		case err != nil:
			return core.StoreError(err)
		case !ok || l.User != user:
			return stanza.NewError("cancel", "item-not-found", string(remote)+" is not a chat linked to "+user)
		case l.Name != "":
			card.FN = l.Name
		}
	}
	if n := v.c.ContactName(s.To.Bare().String()); n != "" {
		card.FN = n // the operator's address book names it
	}
	// Where there is something to fetch (the name a signed-in account
	// knows the contact by, its picture), it takes one of the fetch slots;
	// with none free, the answer is what is known, at once: a vCard get
	// starts no unbounded work.
	lookUpName := v.namer != nil && card.FN == string(remote)
	if v.av == nil && !lookUpName || !v.acquire() {
		router.Result(w, s, card)
		return nil
	}
	answer := stanza.IQ{Type: "result", ID: s.ID, From: s.To.String(), To: s.From.String()}
	v.c.Go(func(ctx context.Context) {
		defer v.release()
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		if lookUpName {
			card.FN = v.nameOf(ctx, user, remote)
		}
		var then []stanza.Presence
		if v.av != nil {
			data, mimeType, err := v.av.Avatar(ctx, user, remote)
			if err != nil {
				v.c.Logger().Info("cannot fetch a contact's picture; its vCard has none", "remote", remote, "err", err)
			} else {
				if len(data) > 0 {
					card.Photo = &Photo{Type: mimeType, BinVal: base64.StdEncoding.EncodeToString(data)}
				}
				then = v.learn(v.keyOf(user, remote), data, user)
			}
		}
		answer.Payload = card
		// The get is answered also once shutdown has begun, which cuts
		// the fetches short: with what is known.
		qctx, qcancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer qcancel()
		if err := v.c.Queue(qctx, answer); err != nil {
			v.c.Logger().Warn("cannot queue a vCard answer", "err", err)
			return
		}
		v.queue(qctx, remote, then)
	})
	return nil
}

// nameOf is the name user's account knows remote by, or the address.
func (v *Instance) nameOf(ctx context.Context, user string, remote transports.Addr) string {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	if n, err := v.namer.ContactName(ctx, user, remote); err == nil && n != "" {
		return n
	}
	return string(remote)
}

// acquire takes one of the fetches, if one is free.
func (v *Instance) acquire() bool {
	select {
	case v.fetches <- struct{}{}:
		return true
	default:
		return false
	}
}

func (v *Instance) release() { <-v.fetches }
