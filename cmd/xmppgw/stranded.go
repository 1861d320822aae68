package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"xmppgw/configs"
	"xmppgw/mapping"
)

const storeUsage = `usage:
  xmppgw store drop-transport -config FILE [-yes] NAME
      print what the store holds under transport name NAME (with the
      gateway's own rows for it, under NAME#...), which the config does
      not have; with -yes, delete it, which is refused while a gateway
      runs on the store (stop it first)
`

// cmdStore works on the store as a whole.
func cmdStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var yes *bool
	return storeCommand{name: "store", usage: storeUsage, arity: map[string]int{"drop-transport": 1},
		flags: func(fs *flag.FlagSet) {
			yes = fs.Bool("yes", false, "drop-transport: delete, not only print")
		},
		// A running gateway may still use the name (its config edited
		// before its restart): deleting waits until it is stopped.
		lead: func(string) bool { return *yes },
		run: func(ctx context.Context, _ string, args []string, cfg *configs.Config, store *mapping.Store, stdout io.Writer) error {
			return dropTransport(ctx, cfg, store, args[0], *yes, stdout)
		},
	}.main(ctx, args, stdout, stderr)
}

// dropTransport prints what the store holds under name, a transport name
// the config does not have, and deletes it if yes.
func dropTransport(ctx context.Context, cfg *configs.Config, store *mapping.Store, name string, yes bool, stdout io.Writer) error {
	if name == "" || strings.Contains(name, mapping.OwnRowsSep) {
		return usageError{fmt.Sprintf("%q is not a transport name: rows under the empty name are the gateway's own, and those under NAME%s… are dropped with NAME", name, mapping.OwnRowsSep)}
	}
	for _, tc := range cfg.Transports {
		if tc.Name == name {
			return usageError{fmt.Sprintf("transport %s is in the config (%s:%d): its rows are in use; remove it from the config first", name, cfg.File, tc.Line)}
		}
	}
	r, err := store.CountTransport(ctx, name)
	if err != nil {
		return err
	}
	if r.Total() == 0 {
		fmt.Fprintf(stdout, "the store holds nothing under transport %s\n", name)
		return nil
	}
	if !yes {
		fmt.Fprintf(stdout, "would delete under transport %s: %s\nrun again with -yes to delete them\n", name, describeRows(r))
		return nil
	}
	r, err = store.DropTransport(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted under transport %s: %s\n", name, describeRows(r))
	return nil
}

// describeRows says what r counts.
func describeRows(r mapping.TransportRows) string {
	return fmt.Sprintf("%d jobs for the provider, %d stanzas for XMPP, %d links, %d other rows", r.Jobs, r.ToXMPP, r.Links, r.Other)
}

// checkStranded looks in the store for rows under transport names the
// config does not have (a transport renamed or removed). Messages waiting
// there would never be delivered: it refuses to start, naming each such
// name with its counts and what to do. Other rows alone (links, state) are
// logged as a warning. The gateway's own rows are not strangers (see
// mapping.TransportNames): those under "" belong to no transport, those
// under NAME#… to NAME. Then it checks what a transport's changed domain
// does to the stanzas waiting for XMPP (checkDomains).
func checkStranded(ctx context.Context, cfg *configs.Config, store *mapping.Store, log *slog.Logger) error {
	names, err := store.TransportNames(ctx)
	if err != nil {
		return fmt.Errorf("store: list transport names: %w", err)
	}
	known := map[string]bool{}
	for _, tc := range cfg.Transports {
		known[tc.Name] = true
	}
	var stranded []string
	for _, name := range names {
		if known[name] {
			continue
		}
		r, err := store.CountTransport(ctx, name)
		if err != nil {
			return fmt.Errorf("store: count transport %s: %w", name, err)
		}
		if r.Pending() {
			stranded = append(stranded, fmt.Sprintf("%q (%d jobs for the provider, %d stanzas for XMPP)", name, r.Jobs, r.ToXMPP))
			continue
		}
		log.Warn("the store holds rows under a transport name the config does not have (a transport renamed or removed?); they are not used",
			"name", name, "links", r.Links, "other_rows", r.Other,
			"to_drop", fmt.Sprintf("xmppgw store drop-transport -config %s -yes %s", cfg.File, name))
	}
	if len(stranded) == 0 {
		return checkDomains(ctx, cfg, store, log)
	}
	return fmt.Errorf("the store holds messages waiting under transport names the config does not have (a transport renamed or removed?): %s; "+
		"to deliver them, put the transport back under that name; to drop them and everything else under that name, run "+
		"xmppgw store drop-transport -config %s -yes NAME (without -yes it prints what it would delete)",
		strings.Join(stranded, ", "), cfg.File)
}
