package component

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// The gateway marks the ids of stanzas it sends whose answers or echoes
// come back to it, so that it acts only on its own: the user's own
// messages sent as the user (carbons.go) and roster pushes (package
// roster). A mark is an HMAC under a key kept in the store, the same
// across restarts (a stanza queued before one is written after it), which
// nobody else can make.

// markKeyName is the store key (in the core's KV) of the marking key; it
// is named for its first use.
const markKeyName = "own-message-key"

// loadMarkKey reads the marking key from the store, making it the first
// time.
func (g *Gateway) loadMarkKey(ctx context.Context) error {
	kv := g.coreKV()
	v, err := kv.Get(ctx, markKeyName)
	if err != nil {
		return err
	}
	if v == "" {
		b := make([]byte, 32)
		rand.Read(b)
		v = hex.EncodeToString(b)
		if err := kv.Set(ctx, markKeyName, v); err != nil {
			return err
		}
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return err
	}
	g.markKey.Store(&key)
	return nil
}

// mark is data's mark: 24 hex digits, or "" before the key is loaded.
func (g *Gateway) mark(data string) string {
	k := g.markKey.Load()
	if k == nil {
		return ""
	}
	m := hmac.New(sha256.New, *k)
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// Mark implements core.Core.
func (g *Gateway) Mark(data string) string { return g.mark(data) }
