package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "xmppgw/transports/sms"          // registers the "twilio" transport type
	_ "xmppgw/transports/telegram"     // registers the "telegram" transport type
	_ "xmppgw/transports/telegramuser" // registers the "telegram-user" transport type
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the gateway failed while running
	exitUsage   = 2 // bad command line or config
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext returns a context that ends at the first SIGINT or
// SIGTERM, or when stop is called. The signals are caught only until
// then: by the time the context has ended, the next one kills the process,
// so that a shutdown that hangs can be cut short.
func signalContext() (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
		}
		signal.Stop(sigs)
		cancel()
	}()
	return ctx, cancel
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "send":
		return cmdSend(ctx, args[1:], stdout, stderr)
	case "links":
		return cmdLinks(ctx, args[1:], stdout, stderr)
	case "contacts":
		return cmdContacts(ctx, args[1:], stdout, stderr)
	case "store":
		return cmdStore(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "xmppgw", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "xmppgw: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  xmppgw run -config FILE     run the gateway until SIGINT or SIGTERM
  xmppgw check -config FILE   validate FILE; exits 2 listing every problem
  xmppgw send [-config FILE] [-url URL] [-token TOKEN] [-id KEY] [--to JID ...] TEXT...
                              post TEXT to the gateway's POST /alerts ("-" or none: stdin)
  xmppgw links list|add|remove -config FILE ...
                              list, add or remove links in the store
  xmppgw contacts import|list -config FILE [FILE.vcf]
                              import names from a vCard file into the address book, or list it
  xmppgw store drop-transport -config FILE [-yes] NAME
                              print (with -yes, delete) the store's rows under a transport
                              name the config no longer has
  xmppgw version              print the version
`)
}
