package transporttest

import (
	"context"
	"sync"

	"xmppgw/transports"
)

// Linked is a fake transports.Linker and transports.Typer: its contacts are
// linked to users one by one, like Telegram chats.
type Linked struct {
	Transport
	Links map[transports.Addr]string // static links

	typingMu sync.Mutex
	typing   []transports.Addr
}

var (
	_ transports.Linker = (*Linked)(nil)
	_ transports.Typer  = (*Linked)(nil)
)

// StaticLinks implements transports.Linker.
func (t *Linked) StaticLinks() map[transports.Addr]string { return t.Links }

// LinkHelp implements transports.Linker.
func (t *Linked) LinkHelp(code string) string { return "Send /link " + code + " to the bot." }

// Typing records a typing notification.
func (t *Linked) Typing(_ context.Context, _, to transports.Addr) error {
	t.typingMu.Lock()
	defer t.typingMu.Unlock()
	t.typing = append(t.typing, to)
	return nil
}

// Typed returns the contacts typing was shown to.
func (t *Linked) Typed() []transports.Addr {
	t.typingMu.Lock()
	defer t.typingMu.Unlock()
	return append([]transports.Addr(nil), t.typing...)
}
