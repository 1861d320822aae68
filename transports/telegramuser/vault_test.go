package telegramuser

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gotd/td/session"

	"xmppgw/transports/transporttest"
)

// memKV is a transports.KV in memory.
type memKV map[string]string

func (m memKV) Get(_ context.Context, k string) (string, error) { return m[k], nil }
func (m memKV) Set(_ context.Context, k, v string) error        { m[k] = v; return nil }

// TestVault: a session is stored sealed, opens with the same key only,
// under its own name only, and deletes.
func TestVault(t *testing.T) {
	ctx := context.Background()
	kv := &transporttest.KV{}
	v, _ := newVault(kv, strings.Repeat("k", 32))
	s := sessionStorage{v: v, key: keySession("alice@example.test")}
	if _, err := s.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("no session yet: %v", err)
	}
	secret := []byte(`{"Version":1,"Data":{"AuthKey":"c2VjcmV0LWF1dGgta2V5"}}`)
	if err := s.StoreSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	stored, _ := kv.Get(ctx, keySession("alice@example.test"))
	if stored == "" || strings.Contains(stored, "AuthKey") || strings.Contains(stored, "c2VjcmV0") {
		t.Errorf("stored in the clear: %q", stored)
	}
	if got, err := s.LoadSession(ctx); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("LoadSession = %q, %v", got, err)
	}
	other, _ := newVault(kv, strings.Repeat("x", 32))
	if _, err := (sessionStorage{v: other, key: keySession("alice@example.test")}).LoadSession(ctx); !errors.Is(err, errSealed) {
		t.Errorf("another key opened it: %v", err)
	}
	kv.Set(ctx, keySession("bob@example.test"), stored) // moved to another user's name
	if _, err := (sessionStorage{v: v, key: keySession("bob@example.test")}).LoadSession(ctx); !errors.Is(err, errSealed) {
		t.Errorf("a session moved to another user opened: %v", err)
	}
	if err := v.set(ctx, keySession("alice@example.test"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}
