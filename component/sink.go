package component

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"xmppgw/component/core"
	"xmppgw/mapping"
	"xmppgw/transports"
)

var _ transports.Sink = (*Gateway)(nil)

// Deliver stores an inbound message as stanzas for its XMPP recipients,
// deduplicated by the provider's id. A nil return means it is stored.
//
// For a Linker transport the recipient is the user the sender is linked to;
// the contact first asks that user to subscribe if it has not yet. Otherwise
// recipients are the users whose account it was sent to: when several share
// it, the one who last wrote to the sender, or all of them if none has.
// A message that reaches nobody is logged, counted and acknowledged with
// transports.ErrNoRecipient: retrying it would not help.
func (g *Gateway) Deliver(ctx context.Context, in transports.Inbound) error {
	start := time.Now()
	contact, err := g.contactJID(in.From)
	if err != nil {
		return err
	}
	// An answer to an alert, from one of its recipients, is not relayed.
	if handled, err := g.contactAnswer(ctx, in, contact.String()); handled || err != nil {
		return err
	}
	if box, ok := g.inboxAt[in.Account]; ok && g.inboxSink != nil {
		return g.deliverInbox(ctx, in, box, contact)
	}
	users, barred, err := g.recipients(ctx, in, contact.String())
	if err != nil {
		return err
	}
	if len(users) == 0 {
		g.Stats.Unowned.Add(1)
		g.countError("no_recipient")
		if len(barred) > 0 {
			g.log.Warn("inbound message reaches nobody: its user is not in access.allow; acknowledged and dropped",
				"account", in.Account, "remote", in.From, "provider_id", in.ID, "user", strings.Join(barred, ","))
		} else {
			g.log.Warn("inbound message reaches nobody; acknowledged and dropped",
				"account", in.Account, "remote", in.From, "provider_id", in.ID)
		}
		return transports.ErrNoRecipient
	}
	if len(barred) > 0 {
		g.log.Info("inbound message not delivered to users not in access.allow",
			"account", in.Account, "remote", in.From, "provider_id", in.ID, "user", strings.Join(barred, ","))
	}
	// A reply or a reaction refers to a message of the contact's (its
	// stanza id is the provider's id) or to one the user sent (recorded
	// when sent).
	target := in.ReplyTo
	if in.ReactTo != "" {
		target = in.ReactTo
	}
	var own string
	if target != "" {
		var found bool
		if own, found, err = g.o.Store.Jobs().StanzaIDOf(ctx, g.name, target); err != nil {
			return err
		} else if !found {
			own = ""
		}
	}
	// A group shown as a room: its messages are kept for the history, and
	// go to the user's resources that joined it; without any, the group is
	// a one-to-one contact whose lines are prefixed with the sender.
	if in.Group {
		in.Sender = memberName(in.Sender)
	}
	var room core.RoomDelivery
	isRoom := g.rooms != nil && g.isRoom(in.From)
	if isRoom {
		room, err = g.rooms.RoomInbound(ctx, in, contact, users)
		if room.Done != nil {
			defer room.Done() // once stored and held (core.RoomDelivery)
		}
		if err != nil {
			return err
		}
		in.Sender = room.Sender
	}
	inRoom := len(room.To)+len(room.Joining) > 0
	copies := func(f string) [][]byte { // a room occupant's
		var ref *replyRef
		switch {
		case own != "":
			ref = &replyRef{ID: own}
		case target != "":
			ref = &replyRef{ID: target, To: contact.String()}
		}
		if in.ReactTo != "" {
			return [][]byte{render(message{Type: "groupchat", ID: in.ID, From: room.From, To: f,
				Reacts: &reactions{ID: ref.ID, Reactions: in.Reactions}, Store: &struct{}{}})}
		}
		if in.Retracts != "" {
			return [][]byte{retraction("groupchat", in.ID, room.From, f, in.Retracts)}
		}
		return inboundStanzas(in, contact.String(), f, "", ref, room.From, "")
	}
	var stanzas [][]byte
	for _, f := range room.To {
		stanzas = append(stanzas, copies(f)...)
	}
	if !inRoom && in.Group {
		in.Body = prefixLines(in.Sender, in.Body)
	}

	for i, u := range users {
		if inRoom {
			break // in the room instead
		}
		suffix := ""
		if len(users) > 1 {
			suffix = "-" + strconv.Itoa(i)
		}
		var ref *replyRef
		switch {
		case own != "":
			ref = &replyRef{ID: own, To: u}
		case target != "":
			ref = &replyRef{ID: target + suffix, To: contact.String()}
		}
		if in.ReactTo != "" {
			stanzas = append(stanzas, render(message{Type: "chat", ID: in.ID + suffix, From: contact.String(), To: u,
				Reacts: &reactions{ID: ref.ID, Reactions: in.Reactions}, Store: &struct{}{}}))
			continue
		}
		if in.Retracts != "" {
			stanzas = append(stanzas, retraction("chat", in.ID+suffix, contact.String(), u, in.Retracts+suffix))
			continue
		}
		shown := in
		if in.Own {
			// The user's own message, written in another app: sent as
			// the user where the server lets the gateway (carbons.go),
			// else shown in the chat with the contact, saying so.
			if st := g.ownMessage(in, contact.String(), u); st != nil {
				stanzas = append(stanzas, st)
				continue
			}
			if in.Body != "" {
				shown.Body = ownPrefix(g.o.Identity.Name) + in.Body
			}
		}
		stanzas = append(stanzas, inboundStanzas(shown, contact.String(), u, suffix, ref, "", g.o.Names.Name(contact.String()))...)
	}
	var ids []int64
	var dup bool
	if isRoom {
		// The history keeps the member's text, without the prefix above.
		ids, dup, err = g.o.Store.Rooms().AcceptRoom(ctx, g.name, "in:"+in.ID, room.History, room.Keep, stanzas...)
	} else {
		ids, dup, err = g.o.Store.ToXMPP().AcceptIDs(ctx, g.name, "in:"+in.ID, stanzas...)
	}
	if err != nil {
		return err
	}
	if !g.stored(in, ids, dup, start) {
		return nil
	}
	g.holdForJoining(ctx, room, copies)
	// XEP-0153: the first message of a contact whose picture hash is not
	// known yet has it learned, in the background (not for a room the
	// user is in: its occupants' presences carry no picture).
	if !inRoom {
		g.refreshAvatar(in.From, users...)
	}
	return nil
}

// holdForJoining gives each of d's Joining its copies of a room's message
// just stored, to be written after its join's answers (see
// core.RoomDelivery); while d is not Done, none is written meanwhile. If
// one was, its copies are queued as To's were. A failure to queue them is
// logged: the message is stored, and in the room's history.
func (g *Gateway) holdForJoining(ctx context.Context, d core.RoomDelivery, copies func(full string) [][]byte) {
	var late [][]byte
	for _, f := range d.Joining {
		if c := copies(f); !d.Hold(f, c) {
			late = append(late, c...)
		}
	}
	if err := g.queueStanzas(ctx, late...); err != nil {
		g.log.Warn("cannot queue a room's message for occupants who just joined; they see it in the history", "err", err, "stanzas", len(late))
	}
}

// retraction renders an XEP-0424 retraction of the message id, with the
// fallback body the XEP suggests for clients without it.
func retraction(typ, id, from, to, retracted string) []byte {
	return render(message{Type: typ, ID: id, From: from, To: to, Retract: &replace{ID: retracted},
		Body:     "This person attempted to retract a previous message, but it's unsupported by your client.",
		Fallback: &fallback{For: nsRetract}, Store: &struct{}{}})
}

// stored counts in, whose stanzas the store took as ids (none if it is a
// duplicate), its clock started at start, and wakes the writer. It
// reports whether in is new.
func (g *Gateway) stored(in transports.Inbound, ids []int64, dup bool, start time.Time) bool {
	if g.o.Metrics != nil {
		for _, id := range ids {
			g.inClock.mark(id, start)
		}
	}
	if dup {
		g.Stats.Duplicates.Add(1)
		g.log.Info("duplicate inbound message ignored", "provider_id", in.ID)
		return false
	}
	g.Stats.FromProvider.Add(1)
	g.countMessage("in")
	wake(g.wakeIn)
	return true
}

// recipients returns the bare JIDs that in goes to, and those it would
// go to but that are not allowed to use the gateway (barred): a user the
// operator took out of access.allow keeps their links and their account
// until they remove them, and receives nothing meanwhile.
func (g *Gateway) recipients(ctx context.Context, in transports.Inbound, contact string) (users, barred []string, err error) {
	if g.linker != nil {
		l, ok, err := g.o.Store.Links().LinkOf(ctx, g.name, string(in.From))
		if err != nil || !ok {
			return nil, nil, err
		}
		if !g.allowed(l.User) {
			return nil, []string{l.User}, nil
		}
		if !l.Asked {
			// A link from the shell, or one from the config not asked yet
			// (see package roster): the contact asks to subscribe
			// with its first message, when its name is known.
			if _, err := g.o.Store.Links().MarkAsked(ctx, g.name, l.Remote, in.Name, g.links.AddContact(contact, l.User, in.Name)...); err != nil {
				return nil, nil, err
			}
		}
		return []string{l.User}, nil, nil
	}
	users, barred = g.allowedOnly(g.ownersOfAccount(in.Account))
	if len(users) > 1 {
		last, err := g.o.Store.Jobs().LastWriter(ctx, g.name, string(in.Account), string(in.From))
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(users, last) {
			users = []string{last}
		}
	}
	return users, barred, nil
}

// allowedOnly splits users into those allowed to use the gateway and the
// others (barred), each in the order given.
func (g *Gateway) allowedOnly(users []string) (allowed, barred []string) {
	for _, u := range users {
		if g.allowed(u) {
			allowed = append(allowed, u)
		} else {
			barred = append(barred, u)
		}
	}
	return allowed, barred
}

// inboundStanzas renders in for user: its text (a correction if it replaces
// an earlier message), then each attachment as an XEP-0066 URL that is also
// the body, so that every client shows something. A correction of a
// message with attachments (an edited caption) is one stanza: its text,
// then the attachments' links, one a line, with the first as its XEP-0066
// URL: a correction replaces the whole message, and the message it
// corrects may have been the attachment's own stanza (a photo sent without
// a caption), which would otherwise turn into the caption alone. If
// occupant is set, user is a full JID in the room that contact is
// (core.RoomDelivery), and the stanzas are groupchat messages from
// occupant, the sender's occupant JID.
func inboundStanzas(in transports.Inbound, contact, user, suffix string, reply *replyRef, occupant, nick string) [][]byte {
	var out [][]byte
	id := in.ID + suffix
	typ, from := "chat", contact
	var sid func(id string) *stanzaID
	if occupant != "" {
		typ, from = "groupchat", occupant
		sid = func(id string) *stanzaID { return &stanzaID{ID: id, By: contact} }
	} else {
		sid = func(string) *stanzaID { return nil }
	}
	if in.Body != "" || len(in.Media) == 0 || in.Replaces != "" {
		m := message{Type: typ, ID: id, From: from, To: user, Body: in.Body, Nick: nick, OriginID: &originID{ID: id}, StanzaID: sid(id)}
		if in.Replaces != "" {
			m.Replace = &replace{ID: in.Replaces + suffix}
			if len(in.Media) > 0 {
				links := strings.Join(in.Media, "\n")
				if m.Body != "" {
					links = m.Body + "\n" + links
				}
				m.Body, m.OOB = links, &oob{URL: in.Media[0]}
				in.Media = nil // in the correction
			}
		}
		if reply != nil {
			m.Reply = reply
			if q := quoteLines(in.Quote); q != "" {
				// For clients without XEP-0461: the quote, marked as a
				// fallback (XEP-0428) that others cut off.
				m.Body = q + m.Body
				m.Fallback = &fallback{For: nsReply, Bodies: []fallbackRange{{Start: ptr(0), End: ptr(utf8.RuneCountInString(q))}}}
			}
		}
		out = append(out, render(m))
	}
	for k, url := range in.Media {
		mid := id
		if len(out) > 0 {
			mid = in.ID + "-m" + strconv.Itoa(k) + suffix
		}
		out = append(out, render(message{Type: typ, ID: mid, From: from, To: user, Body: url,
			OriginID: &originID{ID: mid}, StanzaID: sid(mid), OOB: &oob{URL: url}}))
	}
	return out
}

// Report turns a delivery report into an XEP-0184 receipt (if the sender
// asked for one) or an error message to the sender.
func (g *Gateway) Report(ctx context.Context, st transports.Status) error {
	if st.State != transports.StateDelivered && st.State != transports.StateFailed {
		return nil
	}
	rec, ok, err := g.o.Store.Jobs().LookupSent(ctx, g.name, mapping.Report{
		RemoteID: st.RemoteID, State: string(st.State), Code: st.Code, Text: st.Text})
	if err != nil {
		return err
	}
	if !ok {
		// Kept: the send it reports on may not be recorded yet.
		g.log.Info("delivery report for a message not known yet; kept", "provider_id", st.RemoteID, "state", st.State)
		return nil
	}
	stanza, err := g.reportStanza(rec, st)
	if err != nil || stanza == nil {
		return err
	}
	if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, statusKey(st), stanza); err != nil {
		return err
	}
	wake(g.wakeIn)
	return nil
}

// reportEarly passes on r, a report kept because it came before its send
// was recorded (which it now is), and forgets r, in one transaction.
func (g *Gateway) reportEarly(ctx context.Context, r mapping.Report) error {
	st := transports.Status{RemoteID: r.RemoteID, State: transports.State(r.State), Code: r.Code, Text: r.Text}
	rec, ok, err := g.o.Store.Jobs().LookupSent(ctx, g.name, r)
	if err != nil {
		return err
	}
	var stanza []byte
	if ok {
		if stanza, err = g.reportStanza(rec, st); err != nil {
			return err
		}
	}
	if err := g.o.Store.Jobs().ReportedEarly(ctx, g.name, r, statusKey(st), stanza); err != nil {
		return err
	}
	if stanza != nil {
		wake(g.wakeIn)
	}
	return nil
}

// reportEarlyLeft passes on the early reports that Sent returned before a
// crash or a shutdown kept them from being passed on.
func (g *Gateway) reportEarlyLeft(ctx context.Context) error {
	left, err := g.o.Store.Jobs().EarlyReportsSent(ctx, g.name)
	for _, r := range left {
		if err := g.reportEarly(ctx, r); err != nil {
			return err
		}
	}
	return err
}

// statusKey is the key under which the answer to st is stored once.
func statusKey(st transports.Status) string { return "status:" + st.RemoteID + ":" + string(st.State) }

// reportStanza is what tells rec's sender of st: an error for a failure, a
// receipt or marker if the sender asked for one, else nil.
func (g *Gateway) reportStanza(rec mapping.SentRecord, st transports.Status) ([]byte, error) {
	contact, err := g.contactJID(transports.Addr(rec.Remote))
	if err != nil {
		return nil, err
	}
	switch {
	case st.State == transports.StateFailed:
		g.Stats.Failed.Add(1)
		g.countError("delivery_failed")
		pe := &transports.Error{Kind: transports.KindUnreachable, Provider: providerName(g.o.Identity), Code: st.Code, Message: st.Text}
		return failureStanza(rec.StanzaID, contact.String(), rec.Sender, errorFor(pe, g.domain.String())), nil
	case rec.Receipt || rec.Markable:
		return receiptStanza(st.RemoteID, contact.String(), rec.Sender, rec.StanzaID, rec.Receipt, rec.Markable), nil
	}
	return nil, nil
}

func providerName(id transports.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return "provider"
}

// receiptStanza acknowledges the sender's message stanzaID, which the
// provider knows as remoteID, with an XEP-0184 receipt and/or an XEP-0333
// "received" marker, as the sender asked.
func receiptStanza(remoteID, contact, sender, stanzaID string, requested, markable bool) []byte {
	m := message{ID: "rcpt-" + remoteID, From: contact, To: sender}
	if requested {
		m.Received = &receipt{ID: stanzaID}
	}
	if markable {
		m.Marker = &receipt{ID: stanzaID}
	}
	return render(m)
}

// quoteLines quotes text as "> " lines for a reply's fallback body.
func quoteLines(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	if utf8.RuneCountInString(text) > 200 {
		text = string([]rune(text)[:199]) + "…"
	}
	return "> " + strings.ReplaceAll(text, "\n", "\n> ") + "\n"
}

func ptr(n int) *int { return &n }
