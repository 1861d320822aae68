package xmpptest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var sendxmppSeq atomic.Int64

// SendXMPP sends body to the JID to as user@srv.Host() with the third-party
// sendxmpp client (perl, Net::XMPP) over plain c2s, without TLS. The message
// arrives with type='chat', an empty <subject/> and the body exactly as given
// (sendxmpp adds no newline), from resource "sendxmpp-<unique>". It takes
// about 1s: sendxmpp sleeps 1s before it disconnects.
func SendXMPP(ctx context.Context, srv Server, user, password, to, body string) error {
	if _, err := exec.LookPath("sendxmpp"); err != nil {
		return fmt.Errorf("xmpptest: sendxmpp not found on PATH: run scripts/install-deps.sh (or make test)")
	}
	if password == "" {
		// Without -p sendxmpp reads ~/.sendxmpprc instead.
		return fmt.Errorf("xmpptest: SendXMPP needs a password")
	}
	resource := "sendxmpp-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(sendxmppSeq.Add(1), 10)
	cmd := exec.CommandContext(ctx, "sendxmpp",
		"-u", user, "-p", password,
		"-j", srv.C2S(), // host:port
		"-o", srv.Host(), // the JID's domain, since the host is an IP
		"-r", resource,
		"--", to) // "--": recipients may start with '+'
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmpptest: sendxmpp as %s to %s: %v\n%s", user, to, err, out)
	}
	return nil
}
