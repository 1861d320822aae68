package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// The usage lines of xmppgw send, the top-level one and its own, name
// every flag it takes.
func TestSendUsageNamesEveryFlag(t *testing.T) {
	var help, out, errb bytes.Buffer
	run(context.Background(), []string{"help"}, &help, &help)
	send(context.Background(), []string{"-h"}, strings.NewReader(""), &out, &errb)
	var top string
	for _, l := range strings.Split(help.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "xmppgw send ") {
			top = l
		}
	}
	flags := regexp.MustCompile(`(?m)^  -(\w+)`).FindAllStringSubmatch(errb.String(), -1)
	if top == "" || len(flags) == 0 {
		t.Fatalf("no send line in the usage:\n%s\nor no flags in send -h:\n%s", help.String(), errb.String())
	}
	for _, f := range flags {
		for name, line := range map[string]string{"xmppgw help": top, "xmppgw send -h": sendUsage} {
			if !regexp.MustCompile(`\[-?-` + f[1] + `\b`).MatchString(line) {
				t.Errorf("%s's usage line lacks -%s: %s", name, f[1], line)
			}
		}
	}
}
