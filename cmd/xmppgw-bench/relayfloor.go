package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"

	"xmppgw/internal/gwtest"
)

// The relay floors are what a relay that keeps nothing reaches, built from
// the same libraries as the gateway, in the bench's process with the
// gateway stopped. Out: a component whose stanzas encoding/xml decodes,
// each message posted to the Twilio fake by 16 workers with net/http (kept
// alive, the answer read and dropped). In: an HTTP server whose webhooks
// twilio-go's RequestValidator checks, each written to the server as a
// stanza by one writer, in batches. No store, no dedupe, no receipts, no
// checks but the signature's. They bound what any gateway with a durable
// store could reach on this machine, with the provider's HTTP on the same
// cores.

// relayWorkers is the out relay's concurrent requests, as the gateway's
// lanes send at most 16 at once.
const relayWorkers = 16

// relayOut: the senders through the server to the out relay, until the
// Twilio fake has n more messages.
func (e *env) relayOut(ctx context.Context, n, run int) (float64, string, error) {
	sms := e.g.SMS()
	if sms == nil || sms.APIURL == "" {
		return 0, "", errors.New("no SMS transport in the config")
	}
	endpoint := sms.APIURL + "/2010-04-01/Accounts/" + gwtest.TwilioSID + "/Messages.json"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: relayWorkers}}
	defer hc.CloseIdleConnections()

	type send struct{ to, body string }
	sends := make(chan send, 1024)
	pr, pw := io.Pipe()
	_, stop, err := e.bareComponent(ctx, func(b []byte) { pw.Write(b) })
	if err != nil {
		return 0, "", err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the read loop: decode each message, hand it on
		defer wg.Done()
		defer close(sends)
		defer pr.Close() // the component's reader must not wait on the pipe
		d := xml.NewDecoder(pr)
		for {
			tok, err := d.Token()
			if err != nil {
				return
			}
			start, ok := tok.(xml.StartElement)
			if !ok || start.Name.Local != "message" {
				continue
			}
			var m struct {
				To   string `xml:"to,attr"`
				Body string `xml:"body"`
			}
			if d.DecodeElement(&m, &start) != nil {
				return
			}
			local, _, _ := strings.Cut(m.To, "@")
			sends <- send{local, m.Body}
		}
	}()
	errs := make(chan error, 1)
	fail := func(err error) { // the first failure is reported; the rest dropped
		select {
		case errs <- err:
		default:
		}
	}
	for range relayWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range sends {
				form := url.Values{"To": {s.to}, "From": {senderNum(0)}, "Body": {s.body}}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
				if err != nil {
					fail(err)
					continue
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(gwtest.TwilioSID, gwtest.TwilioToken)
				resp, err := hc.Do(req)
				if err != nil {
					fail(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					fail(fmt.Errorf("the Twilio fake answered %s", resp.Status))
				}
			}
		}()
	}
	defer func() {
		stop()
		pw.Close()
		wg.Wait()
	}()

	prefix := e.prefix("ro", run)
	base := len(e.twilio.Messages())
	s := e.sampleCPU()
	start := time.Now()
	if err := e.sendAll(ctx, n, prefix, func(_, k int) string { return remote(k) + "@sms.example.test" }); err != nil {
		return 0, "", err
	}
	wctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	defer func() { cancel(); <-watched }()
	go func() { // a failed send ends the wait
		defer close(watched)
		select {
		case err := <-errs:
			fmt.Println("  out relay:", err)
			cancel()
		case <-wctx.Done():
		}
	}()
	if _, err := e.twilio.Wait(wctx, base+n); err != nil {
		return 0, "", err
	}
	return float64(n) / time.Since(start).Seconds(), s.perMsg(e, n), nil
}

// relayIn: the bench's signed webhooks to the in relay, through the server
// to the receivers.
func (e *env) relayIn(ctx context.Context, n, run int) (float64, string, error) {
	c, stop, err := e.bareComponent(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer stop()
	users := map[string]string{} // receivers' numbers to their JIDs
	for i := range senders {
		users[receiverNum(i)] = fmt.Sprintf("r%d@example.test", i)
	}

	stanzas := make(chan []byte, 1024)
	var writerDone sync.WaitGroup
	writerDone.Add(1)
	go func() { // the writer: what has come, in one write
		defer writerDone.Done()
		var buf []byte
		for st := range stanzas {
			buf = append(buf[:0], st...)
		more:
			for len(buf) < 64<<10 {
				select {
				case st, ok := <-stanzas:
					if !ok {
						break more
					}
					buf = append(buf, st...)
				default:
					break more
				}
			}
			if _, err := c.Write(buf); err != nil {
				for range stanzas { // the phase fails (the receivers wait in vain); handlers must not block
				}
				return
			}
		}
	}()
	defer func() { close(stanzas); writerDone.Wait() }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, "", err
	}
	hook := "http://" + ln.Addr().String() + "/hooks/sms/inbound"
	validator := client.NewRequestValidator(gwtest.TwilioToken)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		params := make(map[string]string, len(r.PostForm))
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
		if !validator.Validate(hook, params, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		to, ok := users[params["To"]]
		if !ok {
			http.Error(w, "unknown number", http.StatusNotFound)
			return
		}
		var b bytes.Buffer
		b.WriteString(`<message type="chat" from="`)
		xml.EscapeText(&b, []byte(params["From"]))
		b.WriteString(`@sms.example.test" to="` + to + `" id="`)
		xml.EscapeText(&b, []byte(params["MessageSid"]))
		b.WriteString(`"><body>`)
		xml.EscapeText(&b, []byte(params["Body"]))
		b.WriteString(`</body><origin-id xmlns="urn:xmpp:sid:0" id="`)
		xml.EscapeText(&b, []byte(params["MessageSid"]))
		b.WriteString(`"></origin-id></message>`)
		stanzas <- b.Bytes()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response></Response>")
	})}
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(ln) }()
	defer func() { // before the writer stops: no handler runs after
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		srv.Close()
		<-served
	}()

	prefix := e.prefix("ri", run)
	e.newPhase(prefix)
	s := e.sampleCPU()
	start := time.Now()
	if err := e.postTo(ctx, hook, n, prefix, 0); err != nil {
		return 0, "", err
	}
	if err := e.waitReceived(ctx, n); err != nil {
		return 0, "", err
	}
	return float64(n) / time.Since(start).Seconds(), s.perMsg(e, n), nil
}
