package transporttest

import (
	"context"
	"sync"
	"time"
)

// KV is a transports.KV in memory, safe for concurrent use: the state a
// transport's tests give it.
type KV struct {
	mu sync.Mutex
	m  map[string]string
}

// Get returns the value of key, or "".
func (k *KV) Get(_ context.Context, key string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[key], nil
}

// SetUntil stores value under key; it does not expire.
func (k *KV) SetUntil(ctx context.Context, key, value string, _ time.Time) error {
	return k.Set(ctx, key, value)
}

// Set stores value under key.
func (k *KV) Set(_ context.Context, key, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[key] = value
	return nil
}
