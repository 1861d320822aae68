package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"xmppgw/component"
	"xmppgw/component/conn"
	"xmppgw/component/stanza"
	"xmppgw/configs"
	"xmppgw/mapping"
)

// The core's records (in the KV NAME#core) of a transport's domains.
const (
	// domainKey is the domain a component session of the transport last
	// connected with: the server has it, and users' rosters may hold its
	// contacts. xmppgw before queuedDomainKey recorded here the domain it
	// started with, connected or not.
	domainKey = "domain"
	// queuedDomainKey is the domain the transport last started with: the
	// stanzas waiting for XMPP are written from it. Missing in a store of
	// an older xmppgw, where domainKey says it.
	queuedDomainKey = "queued_domain"
	// movingKey lists, space-separated, the domains of a move of the
	// waiting stanzas (moveWaiting) that has not finished: those it moves
	// from and the one it moves to. It is recorded before the move, which
	// commits page by page, and cleared after it: a move interrupted (a
	// store error, a kill) leaves stanzas from any of them, and the next
	// start moves them all to its domain.
	movingKey = "moving_domains"
)

// checkDomains compares each transport's domain with the one it started
// with last, whose stanzas wait for XMPP, written, their from in that
// domain (or in any domain of an unfinished move: movingKey); the server
// refuses them from the new one (invalid-from), holding up every later
// one. If that domain ever connected, a changed domain refuses to start
// while any wait, naming what to do. If it never did (a typo in a first
// config), the server never routed anything from it, so no roster knows
// its JIDs: the waiting stanzas are moved to the new domain
// (stanza.RenameDomain) and the move is logged. A change from the domain
// that connected last is logged: users' rosters keep the old contacts'
// JIDs.
func checkDomains(ctx context.Context, cfg *configs.Config, store *mapping.Store, log *slog.Logger) error {
	var stuck []string
	for _, tc := range cfg.Transports {
		kv := coreKV(store, tc.Name)
		connected, err := kv.Get(ctx, domainKey)
		if err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
		queued, err := kv.Get(ctx, queuedDomainKey)
		if err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
		moving, err := kv.Get(ctx, movingKey)
		if err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
		if queued == "" {
			queued = connected
		}
		from, unfinished := waitingFrom(tc.Domain, queued, moving), moving != ""
		if queued == tc.Domain && len(from) == 0 {
			continue
		}
		if len(from) > 0 {
			_, in, err := store.Depth(ctx, tc.Name)
			if err != nil {
				return fmt.Errorf("store: transport %s: %w", tc.Name, err)
			}
			switch {
			case in > 0 && slices.Contains(from, connected):
				stuck = append(stuck, fmt.Sprintf("transport %s (%s:%d): domain %s, was %s, with %d stanzas waiting for XMPP from %s",
					tc.Name, cfg.File, tc.Line, tc.Domain, connected, in, connected))
				continue
			case in > 0:
				if err := kv.Set(ctx, movingKey, strings.Join(from, " ")+" "+tc.Domain); err != nil {
					return fmt.Errorf("store: transport %s: %w", tc.Name, err)
				}
				unfinished = true
				n, err := moveWaiting(ctx, store, tc.Name, from, tc.Domain, cfg.UserDomain, log)
				if err != nil {
					return fmt.Errorf("store: transport %s: %w", tc.Name, err)
				}
				log.Warn("transport domain changed from one that never connected: the stanzas waiting for XMPP now come from the new domain "+
					"(the server never routed anything from the old one, so no roster has its JIDs)",
					"transport", tc.Name, "domain", tc.Domain, "was", strings.Join(from, ","), "stanzas", n)
			}
		}
		if connected != "" && connected != tc.Domain {
			log.Warn("transport domain changed: contacts have new JIDs, and users' rosters keep the old ones until removed",
				"transport", tc.Name, "domain", tc.Domain, "was", connected)
		}
		if err := kv.Set(ctx, queuedDomainKey, tc.Domain); err != nil {
			return fmt.Errorf("store: transport %s: %w", tc.Name, err)
		}
		if unfinished {
			if err := kv.Set(ctx, movingKey, ""); err != nil {
				return fmt.Errorf("store: transport %s: %w", tc.Name, err)
			}
		}
	}
	if len(stuck) == 0 {
		return nil
	}
	return fmt.Errorf("%s; the XMPP server refuses stanzas from the old domain (invalid-from), and they hold up every later one: "+
		"run once more with the old domain until xmppgw_queue_depth{queue=\"in\"} is 0, then change it", strings.Join(stuck, "; "))
}

// waitingFrom returns the domains other than domain the stanzas waiting
// for XMPP may be from: queued, and those of an unfinished move (moving,
// movingKey's value).
func waitingFrom(domain, queued, moving string) []string {
	var from []string
	for _, d := range append([]string{queued}, strings.Fields(moving)...) {
		if d != "" && d != domain && !slices.Contains(from, d) {
			from = append(from, d)
		}
	}
	return from
}

// moveWaiting moves transport's stanzas waiting for XMPP from the domains
// from to repl (all their JIDs in one if nested, else only their from:
// it is also a domain of users, userDomain) and returns how many changed.
// It commits a page at a time. A stanza that does not parse is left as
// it is, with a warning.
func moveWaiting(ctx context.Context, store *mapping.Store, transport string, from []string, repl string, userDomain func(string) bool, log *slog.Logger) (int, error) {
	moved := 0
	for after := int64(0); ; {
		page, err := store.ToXMPP().PendingAfter(ctx, transport, after, 256)
		if err != nil || len(page) == 0 {
			return moved, err
		}
		var changed []mapping.Queued
	stanzas:
		for _, q := range page {
			b, changes := q.Stanza, 0
			for _, old := range from {
				var n int
				b, n, err = stanza.RenameDomain(b, old, repl, !userDomain(old))
				if err != nil {
					log.Warn("a stanza waiting for XMPP does not parse; left as it is", "transport", transport, "queue_id", q.ID, "err", err)
					continue stanzas
				}
				changes += n
			}
			if changes > 0 {
				changed = append(changed, mapping.Queued{ID: q.ID, Stanza: b})
			}
		}
		if err := store.ToXMPP().Replace(ctx, transport, changed); err != nil {
			return moved, err
		}
		moved += len(changed)
		after = page[len(page)-1].ID
	}
}

// coreKV is the core's KV of transport.
func coreKV(store *mapping.Store, transport string) mapping.KV {
	return store.KV(transport + mapping.OwnRowsSep + "core")
}

// recordConnected records domain as the transport's that connected
// (domainKey) once the run's first component session is up: only then
// does the server have it.
func recordConnected(g *component.Gateway, c *conn.Conn, kv mapping.KV, domain string) {
	var done atomic.Bool
	next := c.OnChange
	c.OnChange = func(up bool) {
		if next != nil {
			next(up)
		}
		if up && !done.Swap(true) {
			g.Go(func(ctx context.Context) {
				g.Persist(ctx, func(ctx context.Context) error { return kv.Set(ctx, domainKey, domain) })
			})
		}
	}
}
