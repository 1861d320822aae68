package telegramuser

import (
	"context"

	"github.com/gotd/td/tg"

	"xmppgw/transports"
)

var (
	_ transports.Reader          = (*Transport)(nil)
	_ transports.ReceiptOnAccept = (*Transport)(nil)
	_ transports.Namer           = (*Transport)(nil)
)

// ReceiptOnAccept implements transports.ReceiptOnAccept: Telegram's
// acceptance of a message is its receipt.
func (t *Transport) ReceiptOnAccept() {}

// Read implements transports.Reader: messages.readHistory up to upTo.
func (t *Transport) Read(ctx context.Context, account, to transports.Addr, upTo string) error {
	a := t.byID(account)
	if a == nil {
		return nil
	}
	chat, err := parsePeer(to)
	if err != nil {
		return nil
	}
	r, ok := a.refTo(chat, upTo)
	if !ok {
		return nil
	}
	peer, ok := a.peers.input(to)
	if !ok {
		return nil
	}
	if ch, ok := inputChannel(peer); ok {
		_, err = a.api().ChannelsReadHistory(ctx, &tg.ChannelsReadHistoryRequest{Channel: ch, MaxID: r.id})
		return err
	}
	_, err = a.api().MessagesReadHistory(ctx, &tg.MessagesReadHistoryRequest{Peer: peer, MaxID: r.id})
	return err
}

// ContactName implements transports.Namer: the name user's own account
// knows remote by, or "" if user has no account or it does not know remote.
// Another account's names are never used: they may be its user's own
// names for its contacts. (Nor are they in a group's room, which every
// gateway user in the group shares: see memberName.)
func (t *Transport) ContactName(ctx context.Context, user string, remote transports.Addr) (string, error) {
	a := t.account(user)
	if a == nil {
		return "", nil
	}
	return a.peers.name(remote), nil
}
