package component

import (
	"context"
	"slices"
	"strconv"

	"xmppgw/mapping"
	"xmppgw/transports"
)

var _ transports.Sink = (*Gateway)(nil)

// Deliver stores an inbound message as stanzas for its XMPP recipients,
// deduplicated by the provider's id. A nil return means it is stored.
//
// Recipients are the users whose account it was sent to. When several users
// share that account, it goes to the one who last wrote to the sender, or to
// all of them if none has. A message to an account nobody owns is logged,
// counted and acknowledged: retrying it would not help.
func (g *Gateway) Deliver(ctx context.Context, in transports.Inbound) error {
	users := g.owners[in.Account]
	if len(users) == 0 {
		g.Stats.Unowned.Add(1)
		g.log.Warn("inbound message for an account nobody owns; acknowledged and dropped",
			"account", in.Account, "provider_id", in.ID)
		return nil
	}
	if len(users) > 1 {
		last, err := g.o.Store.LastWriter(ctx, g.name, string(in.Account), string(in.From))
		if err != nil {
			return err
		}
		if slices.Contains(users, last) {
			users = []string{last}
		}
	}
	contact, err := mapping.ContactJID(in.From, g.domain.Domainpart())
	if err != nil {
		return err
	}
	stanzas := make([][]byte, len(users))
	for i, u := range users {
		id := in.ID
		if len(users) > 1 {
			id += "-" + strconv.Itoa(i)
		}
		stanzas[i] = render(message{Type: "chat", ID: id, From: contact.String(), To: u, Body: in.Body})
	}
	dup, err := g.o.Store.Accept(ctx, g.name, "in:"+in.ID, stanzas...)
	if err != nil {
		return err
	}
	if dup {
		g.Stats.Duplicates.Add(1)
		g.log.Info("duplicate inbound message ignored", "provider_id", in.ID)
		return nil
	}
	g.Stats.FromProvider.Add(1)
	wake(g.wakeIn)
	return nil
}

// Report turns a delivery report into an XEP-0184 receipt (if the sender
// asked for one) or an error message to the sender.
func (g *Gateway) Report(ctx context.Context, st transports.Status) error {
	if st.State != transports.StateDelivered && st.State != transports.StateFailed {
		return nil
	}
	rec, ok, err := g.o.Store.LookupSent(ctx, g.name, mapping.Report{
		RemoteID: st.RemoteID, State: string(st.State), Code: st.Code, Text: st.Text})
	if err != nil {
		return err
	}
	if !ok {
		// Kept: the send it reports on may not be recorded yet.
		g.log.Info("delivery report for a message not known yet; kept", "provider_id", st.RemoteID, "state", st.State)
		return nil
	}
	contact, err := mapping.ContactJID(transports.Addr(rec.Remote), g.domain.Domainpart())
	if err != nil {
		return err
	}
	var stanza []byte
	switch {
	case st.State == transports.StateFailed:
		g.Stats.Failed.Add(1)
		pe := &transports.Error{Kind: transports.KindUnreachable, Provider: providerName(g.o.Identity), Code: st.Code, Message: st.Text}
		stanza = render(message{Type: "error", ID: rec.StanzaID, From: contact.String(), To: rec.Sender,
			Error: errorFor(pe, g.domain.String())})
	case rec.Receipt:
		stanza = render(message{ID: "rcpt-" + st.RemoteID, From: contact.String(), To: rec.Sender,
			Received: &receipt{ID: rec.StanzaID}})
	default:
		return nil
	}
	if _, err := g.o.Store.Accept(ctx, g.name, "status:"+st.RemoteID+":"+string(st.State), stanza); err != nil {
		return err
	}
	wake(g.wakeIn)
	return nil
}

func providerName(id transports.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return "provider"
}
