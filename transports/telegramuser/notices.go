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

// ContactName implements transports.Namer: the name any signed-in account
// knows remote by.
func (t *Transport) ContactName(ctx context.Context, remote transports.Addr) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.accounts {
		if n := a.peers.name(remote); n != "" {
			return n, nil
		}
	}
	return "", nil
}
