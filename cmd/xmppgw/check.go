package main

import (
	"flag"
	"fmt"
	"io"

	"xmppgw/configs"
)

// cmdCheck validates a config file without connecting to anything.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	cfg, ok := loadConfig("check", args, stderr)
	if !ok {
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: ok (%d transports)\n", cfg.File, len(cfg.Transports))
	return exitOK
}

// loadConfig parses "-config FILE" for subcommand name and loads FILE,
// printing every problem to stderr.
func loadConfig(name string, args []string, stderr io.Writer) (*configs.Config, bool) {
	path, ok := configFlag(name, args, stderr)
	if !ok {
		return nil, false
	}
	cfg, err := configs.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, false
	}
	return cfg, true
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
