package contacts

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Store holds the imported names. mapping.ContactTable implements it.
type Store interface {
	// Names returns every imported name, by key (see Book).
	Names(ctx context.Context) (map[string]string, error)
}

// reloadEvery is how often Run reads the imported names again, so that an
// import by the shell reaches a running gateway.
const reloadEvery = 30 * time.Second

// Book looks names up. A key is a contact's JID (+15557654321@sms.example.com,
// 123456789@telegram.example.com), or a number (+15557654321), which names
// that number on every SMS transport. The config's names win over imported
// ones. Its methods are safe for concurrent use; Name never blocks on I/O.
type Book struct {
	static map[string]string
	store  Store
	log    *slog.Logger

	mu     sync.RWMutex
	stored map[string]string
}

// New returns a Book with the config's names (keys canonical, see Book)
// and the store's, once Load has read them. store may be nil.
func New(static map[string]string, store Store, log *slog.Logger) *Book {
	return &Book{static: static, store: store, log: log}
}

// SetStatic replaces the config's names (keys canonical). Call it before
// the Book is used.
func (b *Book) SetStatic(static map[string]string) { b.static = static }

// Name returns contact's name (contact is a contact's JID), or "".
func (b *Book) Name(contact string) string {
	if b == nil {
		return ""
	}
	keys := []string{contact}
	if local, _, ok := strings.Cut(contact, "@"); ok && strings.HasPrefix(local, "+") {
		keys = append(keys, local)
	}
	for _, k := range keys {
		if n := b.static[k]; n != "" {
			return n
		}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, k := range keys {
		if n := b.stored[k]; n != "" {
			return n
		}
	}
	return ""
}

// Label is contact as people read it in a message: "Dana Scully
// (+15557654321)" if its name is known, else its number (for a phone) or
// its JID.
func (b *Book) Label(contact string) string {
	id := contact
	if local, _, ok := strings.Cut(contact, "@"); ok && strings.HasPrefix(local, "+") {
		id = local
	}
	if n := b.Name(contact); n != "" {
		return n + " (" + id + ")"
	}
	return id
}

// Load reads the imported names.
func (b *Book) Load(ctx context.Context) error {
	if b.store == nil {
		return nil
	}
	names, err := b.store.Names(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.stored = names
	b.mu.Unlock()
	return nil
}

// Run reads the imported names every 30 seconds until ctx ends; a failed
// read keeps the names it had.
func (b *Book) Run(ctx context.Context) {
	t := time.NewTicker(reloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.Load(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("cannot read the address book; keeping the names read before", "err", err)
		}
	}
}
