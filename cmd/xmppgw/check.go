package main

import (
	"flag"
	"fmt"
	"io"

	"xmppgw/configs"
)

// cmdCheck validates a config file without connecting to anything.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	path, ok := configFlag("check", args, stderr)
	if !ok {
		return exitUsage
	}
	cfg, err := configs.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: ok (%d transports)\n", cfg.File, len(cfg.Transports))
	return exitOK
}

// configFlag parses "-config FILE" for subcommand name.
func configFlag(name string, args []string, stderr io.Writer) (string, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path of the YAML config file")
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	if *path == "" || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "usage: xmppgw %s -config FILE\n", name)
		return "", false
	}
	return *path, true
}
