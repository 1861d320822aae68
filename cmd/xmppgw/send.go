package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"xmppgw/component/alerts"
	"xmppgw/configs"
)

// sendUsage is the usage line of xmppgw send.
const sendUsage = "usage: xmppgw send [-config FILE] [-url URL] [-token TOKEN] [-id KEY] [--to JID ...] [TEXT... | -]"

// sendTimeout bounds one xmppgw send request.
const sendTimeout = 30 * time.Second

// cmdSend posts a text to the gateway's POST /alerts, for shells and cron
// jobs: "xmppgw send --to ops@example.com disk full on db1". Without --to,
// the config's route without match takes it. TEXT "-" or none reads stdin.
// The token is -token, else $XMPPGW_ALERTS_TOKEN, else the config's
// alerts.token; the URL is -url, else http://<http.listen>/alerts.
func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return send(ctx, args, os.Stdin, stdout, stderr)
}

func send(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, sendUsage)
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "the gateway's config file, for its address and alerts.token")
	url := fs.String("url", "", "the alert endpoint (default http://<http.listen>/alerts)")
	token := fs.String("token", "", "the bearer token (default $XMPPGW_ALERTS_TOKEN, else the config's alerts.token)")
	id := fs.String("id", "", "an idempotency key: sent again with the same id and text, it is delivered once")
	var to listFlag
	fs.Var(&to, "to", "a destination JID, or +NUMBER for the first SMS transport; repeatable")
	words, ok := parseInterleaved(fs, args)
	if !ok {
		return exitUsage
	}

	var text string
	if len(words) == 0 || len(words) == 1 && words[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, alerts.MaxBody+1))
		if err != nil {
			fmt.Fprintf(stderr, "xmppgw send: reading the text: %v\n", err)
			return exitFailure
		}
		text = string(b)
	} else {
		text = strings.Join(words, " ")
	}
	if strings.TrimSpace(text) == "" {
		fmt.Fprintln(stderr, "xmppgw send: the text is empty")
		fmt.Fprintln(stderr, sendUsage)
		return exitUsage
	}

	if *token == "" {
		*token = os.Getenv("XMPPGW_ALERTS_TOKEN")
	}
	if *path != "" && (*url == "" || *token == "") {
		cfg, err := configs.Load(*path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if *url == "" {
			if *url, err = alertsURL(cfg.HTTP.Listen); err != nil {
				fmt.Fprintf(stderr, "xmppgw send: %v; give -url\n", err)
				return exitUsage
			}
		}
		if *token == "" && cfg.Alerts != nil {
			*token = cfg.Alerts.Token
		}
	}
	switch {
	case *url == "":
		fmt.Fprintln(stderr, "xmppgw send: give -url, or -config to take the address from")
		fmt.Fprintln(stderr, sendUsage)
		return exitUsage
	case *token == "":
		fmt.Fprintln(stderr, "xmppgw send: no token: give -token, set XMPPGW_ALERTS_TOKEN, or give -config with an alerts block")
		return exitUsage
	}

	body, _ := json.Marshal(struct {
		To   []string `json:"to,omitempty"`
		Text string   `json:"text"`
		ID   string   `json:"id,omitempty"`
	}{to, text, *id})
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "xmppgw send: %v\n", err)
		return exitUsage
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "xmppgw send: %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	var res alerts.Result
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	jsonErr := json.Unmarshal(raw, &res)
	if resp.StatusCode != http.StatusOK {
		why := res.Error
		if jsonErr != nil || why == "" {
			why = strings.TrimSpace(string(raw))
		}
		fmt.Fprintf(stderr, "xmppgw send: %s: %s\n", resp.Status, why)
		if res.Queued+res.Duplicates > 0 {
			fmt.Fprintf(stderr, "xmppgw send: %s\n", queuedText(res))
		}
		return exitFailure
	}
	if jsonErr != nil {
		fmt.Fprintf(stderr, "xmppgw send: unexpected answer from %s: %q\n", *url, raw)
		return exitFailure
	}
	fmt.Fprintln(stdout, queuedText(res))
	return exitOK
}

// queuedText says what the gateway queued.
func queuedText(res alerts.Result) string {
	s := fmt.Sprintf("queued %d message%s", res.Queued, plural(res.Queued))
	if res.Duplicates > 0 {
		s += fmt.Sprintf(", %d already queued before", res.Duplicates)
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// alertsURL is the alert endpoint on the listener at listen, reached on
// loopback when it listens on every interface.
func alertsURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q is not host:port", listen)
	}
	if port == "0" {
		return "", errors.New("http.listen has port 0, so the gateway's port is not known")
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + alertsPath, nil
}

// parseInterleaved parses flags given before, between or after the words
// of the text ("xmppgw send disk full --to ops@example.com"); words after
// "--" are all text.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, bool) {
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return words, true
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(words, rest...), true
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
