package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"xmppgw/configs"
	"xmppgw/mapping"
)

// domainKey is the core's record (in the KV NAME#core) of the domain a
// transport's stanzas were last written under.
const domainKey = "domain"

// checkDomains compares each transport's domain with the one it ran under
// last. Stanzas waiting for XMPP are stored written, their from in the old
// domain, and the server refuses them from the new one (invalid-from),
// holding up every later one: while any wait, a changed domain refuses to
// start, naming what to do. Without any, the change is recorded and
// logged: users' rosters keep the old contacts' JIDs.
func checkDomains(ctx context.Context, cfg *configs.Config, store *mapping.Store, log *slog.Logger) error {
	var stuck []string
	for _, tc := range cfg.Transports {
		kv := store.KV(tc.Name + mapping.OwnRowsSep + "core")
		last, err := kv.Get(ctx, domainKey)
		if err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
		if last == tc.Domain {
			continue
		}
		if last != "" {
			_, in, err := store.Depth(ctx, tc.Name)
			if err != nil {
				return fmt.Errorf("store: transport %s: %w", tc.Name, err)
			}
			if in > 0 {
				stuck = append(stuck, fmt.Sprintf("transport %s (%s:%d): domain %s, was %s, with %d stanzas waiting for XMPP from %s",
					tc.Name, cfg.File, tc.Line, tc.Domain, last, in, last))
				continue
			}
			log.Warn("transport domain changed: contacts have new JIDs, and users' rosters keep the old ones until removed",
				"transport", tc.Name, "domain", tc.Domain, "was", last)
		}
		if err := kv.Set(ctx, domainKey, tc.Domain); err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
	}
	if len(stuck) == 0 {
		return nil
	}
	return fmt.Errorf("%s; the XMPP server refuses stanzas from the old domain (invalid-from), and they hold up every later one: "+
		"run once more with the old domain until xmppgw_queue_depth{queue=\"in\"} is 0, then change it", strings.Join(stuck, "; "))
}
