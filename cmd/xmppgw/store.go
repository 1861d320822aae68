package main

import (
	"context"

	"xmppgw/configs"
	"xmppgw/mapping"
)

// openStore opens the store the config names.
func openStore(ctx context.Context, cfg *configs.Config) (*mapping.Store, error) {
	return mapping.Open(ctx, cfg.Store.Driver, cfg.Store.Path, cfg.Store.DSN)
}
