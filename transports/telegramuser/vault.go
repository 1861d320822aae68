package telegramuser

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/gotd/td/session"

	"xmppgw/transports"
)

// vault keeps secrets in the transport's KV, sealed with AES-256-GCM
// under a key derived from the config's session_key. The key's name is
// the additional data, so a value moved to another key does not open.
type vault struct {
	kv   transports.KV
	aead cipher.AEAD
}

func newVault(kv transports.KV, sessionKey string) (*vault, error) {
	k := sha256.Sum256([]byte("xmppgw telegram-user session\x00" + sessionKey))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &vault{kv: kv, aead: aead}, nil
}

// errSealed is the error for a value that does not open: written under
// another session_key, or altered.
var errSealed = errors.New("a stored session does not open with this session_key")

func (v *vault) get(ctx context.Context, key string) ([]byte, error) {
	s, err := v.kv.Get(ctx, key)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	n := v.aead.NonceSize()
	if err != nil || len(b) < n {
		return nil, errSealed
	}
	plain, err := v.aead.Open(nil, b[:n], b[n:], []byte(key))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

func (v *vault) set(ctx context.Context, key string, plain []byte) error {
	if plain == nil {
		return v.kv.Set(ctx, key, "")
	}
	nonce := make([]byte, v.aead.NonceSize())
	rand.Read(nonce)
	sealed := v.aead.Seal(nonce, nonce, plain, []byte(key))
	return v.kv.Set(ctx, key, base64.StdEncoding.EncodeToString(sealed))
}

// sessionStorage is one user's MTProto session in the vault, for gotd.
type sessionStorage struct {
	v     *vault
	key   string
	fresh bool // a new sign-in: a stored session that does not open is none
}

var _ session.Storage = sessionStorage{}

func (s sessionStorage) LoadSession(ctx context.Context) ([]byte, error) {
	b, err := s.v.get(ctx, s.key)
	if errors.Is(err, errSealed) && s.fresh {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, session.ErrNotFound
	}
	return b, nil
}

func (s sessionStorage) StoreSession(ctx context.Context, data []byte) error {
	return s.v.set(ctx, s.key, data)
}
