//go:build integration

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlixmppClient: a third-party client, slixmpp (Debian's
// python3-slixmpp), uses the Telegram mappings of the XEP table in README
// through Prosody: receipts and markers, a correction, a reaction, a reply
// with a fallback quote, a retraction and the contact's vCard. The client is
// testdata/slixmpp_fidelity.py; this test checks what reached the Bot API
// fake and what the client saw.
func TestSlixmppClient(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing (%v): run `make deps`", python, err)
	}
	if out, err := exec.Command(python, "-c", "import slixmpp").CombinedOutput(); err != nil {
		t.Fatalf("slixmpp is not installed for %s (%v: %s): run `make deps`", python, err, out)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "slixmpp_fidelity.py"))
	if err != nil {
		t.Fatal(err)
	}

	e := startEnv(t, envOptions{chats: map[string]string{"111": "alice@example.test"}})
	outFile := filepath.Join(t.TempDir(), "seen.json")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, e.srv.C2S(), "alice@example.test/slixmpp", "pw", outFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	failed := func(format string, args ...any) {
		t.Helper()
		t.Logf("slixmpp stderr:\n%s", stderr.String())
		t.Fatalf(format, args...)
	}
	// The script says READY once online; only then does the Telegram user
	// write, so "ping?" reaches a connected client.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said && strings.TrimSpace(sc.Text()) == "READY" {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			err := cmd.Wait()
			failed("slixmpp never came online: %v", err)
		}
	case <-ctx.Done():
		err := cmd.Wait()
		failed("slixmpp never came online in 60s: %v", err)
	}
	ping := e.tg.UserSends(tgDM, tgAlice, "ping?")
	if err := cmd.Wait(); err != nil {
		failed("slixmpp_fidelity.py: %v", err)
	}

	var seen struct {
		PingID     string `json:"ping_id"`
		FirstID    string `json:"first_id"`
		ReceiptFor string `json:"receipt_for"`
		MarkerFor  string `json:"marker_for"`
		VCardFN    string `json:"vcard_fn"`
	}
	raw, err := os.ReadFile(outFile)
	if err != nil || json.Unmarshal(raw, &seen) != nil {
		failed("no summary from the script: %v (%s)", err, raw)
	}
	t.Logf("slixmpp saw %s", raw)
	if seen.FirstID == "" || seen.ReceiptFor != seen.FirstID || seen.MarkerFor != seen.FirstID {
		t.Errorf("receipt/marker: %+v", seen)
	}
	// A config link learns the person's name with their first message.
	if seen.VCardFN != "Alice Tg" {
		t.Errorf("vCard FN %q, want %q", seen.VCardFN, "Alice Tg")
	}

	// The script has sent everything, but the gateway may still be
	// calling the Bot API: wait for each call, then let stragglers land.
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := e.tg.WaitFor(wctx, func() bool {
		replied := false
		for _, m := range e.tg.SentTo(111) {
			replied = replied || m.ReplyToMessage != nil
		}
		return replied && len(e.tg.Deleted()) > 0 && len(e.tg.Edits()) > 0 && len(e.tg.Reactions()) > 0
	}); err != nil {
		t.Errorf("not every Bot API call came (edits %+v, reactions %+v, deleted %+v): %v",
			e.tg.Edits(), e.tg.Reactions(), e.tg.Deleted(), err)
	}
	time.Sleep(500 * time.Millisecond)

	// The fake keeps a message's current text: the first one, edited.
	sent := e.tg.SentTo(111)
	if len(sent) == 0 || sent[0].ReplyToMessage != nil || sent[0].EditDate == 0 || sent[0].Text != "slixmpp says hello" {
		t.Fatalf("first message: Telegram got %+v", sent)
	}
	first := sent[0]
	edits := e.tg.Edits()
	if len(edits) != 1 || edits[0].ChatID != 111 || edits[0].MessageID != first.MessageID || edits[0].Text != "slixmpp says hello" {
		t.Errorf("correction: edits %+v, want one of message %d to %q", edits, first.MessageID, "slixmpp says hello")
	}
	reacts := e.tg.Reactions()
	if len(reacts) != 1 || reacts[0].ChatID != 111 || reacts[0].MessageID != ping.MessageID || reacts[0].Emoji != "👍" {
		t.Errorf("reaction: %+v, want 👍 on message %d", reacts, ping.MessageID)
	}
	var replies []string
	for _, m := range sent {
		if m.ReplyToMessage != nil {
			replies = append(replies, m.Text)
			if m.ReplyToMessage.MessageID != ping.MessageID || m.Text != "pong from slixmpp" {
				t.Errorf("reply: %q in reply to %d, want %q in reply to %d", m.Text, m.ReplyToMessage.MessageID, "pong from slixmpp", ping.MessageID)
			}
		}
	}
	if len(replies) != 1 {
		t.Errorf("%d replies sent (%q), want 1", len(replies), replies)
	}
	del := e.tg.Deleted()
	if len(del) != 1 || del[0].ChatID != 111 || del[0].MessageID != first.MessageID {
		t.Errorf("retraction: deleted %+v, want message %d", del, first.MessageID)
	}
	// slixmpp's retraction (XEP-0424 0.3) carries a fallback body for
	// clients without retraction: it must not reach Telegram as text.
	for _, m := range sent[1:] {
		if m.ReplyToMessage == nil {
			t.Errorf("also sent to Telegram: message %d %q", m.MessageID, m.Text)
		}
	}
	if t.Failed() {
		t.Logf("slixmpp stderr:\n%s", stderr.String())
	}
}
