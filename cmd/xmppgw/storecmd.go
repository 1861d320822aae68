package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"xmppgw/configs"
	"xmppgw/mapping"
)

// storeCommand is a command that works on the store of a config:
// `xmppgw NAME VERB -config FILE [flags] ARGS...`.
type storeCommand struct {
	name  string         // "links"
	usage string         // printed for a wrong command line
	arity map[string]int // verb -> how many arguments it takes
	flags func(fs *flag.FlagSet)
	// lead, if set, tells whether the verb (its flags parsed) must lead
	// the store, because no gateway may run beside it: it is refused if
	// another process leads. On SQLite the lock is taken before the store
	// is opened.
	lead func(verb string) bool
	run  func(ctx context.Context, verb string, args []string, cfg *configs.Config, store *mapping.Store, stdout io.Writer) error
}

// main parses args, loads the config, opens its store (as it is: a
// schema other than this release's is refused) and runs the verb.
// A usageError from run exits with exitUsage, any other error with
// exitFailure.
func (c storeCommand) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, c.usage)
		return exitUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet(c.name+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path of the YAML config file")
	if c.flags != nil {
		c.flags(fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if n, known := c.arity[verb]; !known || *path == "" || fs.NArg() != n {
		fmt.Fprint(stderr, c.usage)
		return exitUsage
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	prefix := "xmppgw " + c.name + ":"
	if cfg.Store.Driver == mapping.DriverSQLite {
		// Opening creates a missing file: a wrong relative path would
		// quietly give an empty store.
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			fmt.Fprintf(stderr, "%s no store at %s (store.path; a relative path is taken from the current directory): %v\n",
				prefix, cfg.Store.Path, err)
			return exitFailure
		}
	}
	leads := c.lead != nil && c.lead(verb)
	// Never migrated: a gateway of another release may run on the store
	// (see mapping.OpenExisting).
	store, err := mapping.OpenExisting(ctx, cfg.Store.Driver, cfg.Store.Path, cfg.Store.DSN, leads)
	if err != nil {
		fmt.Fprintln(stderr, prefix, err)
		return exitFailure
	}
	defer store.Close()
	if leads {
		release, err := store.TryLead(ctx)
		if err != nil {
			fmt.Fprintln(stderr, prefix, err)
			return exitFailure
		}
		defer release()
	}
	err = c.run(ctx, verb, fs.Args(), cfg, store, stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, prefix, err)
		return exitUsage
	case err != nil:
		fmt.Fprintln(stderr, prefix, err)
		return exitFailure
	}
	return exitOK
}
