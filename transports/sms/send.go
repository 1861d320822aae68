package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"xmppgw/transports"
)

// correctionPrefix marks an SMS that corrects an earlier one (an XEP-0308
// correction from XMPP): an SMS cannot be edited, so the correction is sent
// as a new message that says what it is.
const correctionPrefix = "Correction: "

// smsBody is the text sent for out: a reply starts with a short quote of
// the message it answers ("> quote"), as SMS has no replies; a reaction is
// said in words.
func smsBody(out transports.Outbound) string {
	if out.ReactTo != "" {
		return "Reacted " + strings.Join(out.Reactions, " ") // SMS has no reactions: say it
	}
	body := out.Body
	if out.Quote != "" {
		body = "> " + out.Quote + "\n" + body
	}
	if out.Replaces != "" {
		body = correctionPrefix + body
	}
	return body
}

// sendTimeout bounds a Send whose context has no deadline.
const sendTimeout = 30 * time.Second

// provider is the Provider of every *transports.Error from this package.
const provider = "twilio"

// Send implements transports.Transport: it creates a Message resource from
// out.Account to out.To and returns its SID. Failures are *transports.Error.
// Pacing is up to the caller (see Pace).
//
// A body longer than Twilio takes (maxSMS) is sent as several messages, in
// order, the attachments with the first; the remote id lists their SIDs
// ("SM…,SM…"). When a retry follows a partial send, the parts already sent
// are not sent again. A failure after a part was sent is never
// KindRateLimited (see partlySent).
func (t *Transport) Send(ctx context.Context, out transports.Outbound) (string, error) {
	if out.Empty() {
		return "", transports.ErrEmpty(provider)
	}
	if out.Retracts != "" {
		return "", &transports.Error{Kind: transports.KindRejected, Provider: provider,
			Message: "an SMS cannot be deleted once sent"}
	}
	if out.ReactTo != "" && len(out.Reactions) == 0 {
		return "", nil // a reaction taken back: an SMS cannot take anything back
	}
	ctx, cancel := bounded(ctx)
	defer cancel()

	parts := smsParts(out)
	sids := t.sentSoFar(out.ID)
	for i := len(sids); i < len(parts); i++ {
		if i > 0 { // the caller paced the first (see Pace)
			if err := t.pace.wait(ctx, out.Account); err != nil {
				return "", t.failedPart(out.ID, sids, &transports.Error{Kind: transports.KindUnavailable, Provider: provider,
					Message: "waiting for the rate limit: " + err.Error()})
			}
		}
		var media []string
		if i == 0 {
			media = out.Media
		}
		sid, e := t.create(ctx, out, parts[i], media, len(parts) > 1)
		if e != nil {
			return "", t.failedPart(out.ID, sids, partlySent(e, sids))
		}
		sids = append(sids, sid)
	}
	whole := strings.Join(sids, ",")
	if len(sids) > 1 {
		if e := t.recordParts(ctx, sids, whole); e != nil {
			return "", t.failedPart(out.ID, sids, e)
		}
	}
	t.sentAll(out.ID)
	return whole, nil
}

// partlySent is e, the failure of a part after the parts sids were sent,
// as Send returns it. A refusal for now (KindRateLimited: 429, 14107,
// 21611) tells the core that the provider took nothing, and the core then
// forgets that a send began (component/dispatch.go); but the provider took
// the parts before, so such a failure is returned as KindUnavailable, with
// the provider's code, message and RetryAfter: the core keeps its
// in-flight mark and checks (SentSince) from the send's first attempt
// before it sends again, even after a restart that lost the progress kept
// in memory.
func partlySent(e *transports.Error, sids []string) *transports.Error {
	if len(sids) == 0 || e.Kind != transports.KindRateLimited {
		return e
	}
	c := *e
	c.Kind = transports.KindUnavailable
	return &c
}

// create sends one message of out, with body and media, and returns its
// SID. part says it is one of several messages (see partMarker).
func (t *Transport) create(ctx context.Context, out transports.Outbound, body string, media []string, part bool) (string, *transports.Error) {
	api, rw := t.api(ctx)
	defer rw.closeBody()

	params := &openapi.CreateMessageParams{}
	params.SetTo(providerAddr(out.To)).SetFrom(string(out.Account))
	if body != "" || len(media) == 0 {
		params.SetBody(body)
	}
	if len(media) > 0 {
		urls, e := t.outboundMedia(ctx, out)
		if e != nil {
			return "", e
		}
		params.SetMediaUrl(urls)
	}
	if t.publicURL != "" {
		cb := t.publicURL + "/status"
		if part {
			cb += "?" + partMarker
		}
		params.SetStatusCallback(cb + statusOverrides)
	}

	msg, err := api.CreateMessage(params)
	if err != nil {
		e := t.classify(ctx, err, rw)
		level := slog.LevelWarn
		if e.Kind == transports.KindAuth {
			level = slog.LevelError
		}
		t.log.Log(ctx, level, "sms: send failed", "job", out.ID, "to", string(out.To),
			"kind", e.Kind.String(), "code", e.Code, "error", e.Message)
		return "", e
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", &transports.Error{Kind: transports.KindUnknown, Provider: provider,
			Message: "response carries no message sid"}
	}
	t.log.Debug("sms: sent", "job", out.ID, "to", string(out.To), "provider_id", *msg.Sid)
	return *msg.Sid, nil
}

// bounded gives ctx a deadline of sendTimeout if it has none.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, sendTimeout)
}

// api returns a Messages API client bound to ctx. twilio-go builds its
// requests without a context and only knows api.twilio.com; a fresh client
// per call lets the rewriter add both.
func (t *Transport) api(ctx context.Context) (*openapi.ApiService, *rewriter) {
	rw := &rewriter{base: t.apiBase, next: t.httpTransport, ctx: ctx}
	c := &client.Client{
		Credentials: client.NewCredentials(t.settings.AccountSID, t.settings.AuthToken),
		HTTPClient: &http.Client{
			Transport:     rw,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(t.settings.AccountSID)
	rh := client.NewRequestHandler(c)
	rh.Edge, rh.Region = "", "" // ignore TWILIO_EDGE/TWILIO_REGION: api_url decides
	return openapi.NewApiService(rh), rw
}

// SentSince implements transports.Reconciler: it lists the newest Message
// resources from out.Account to out.To and returns the SIDs of those with
// out.Body created at or after since, oldest first. For a body sent as
// several messages it returns each run of messages with the parts' bodies
// in order, their SIDs joined as Send joins them; the parts of a run cut
// short at the end (the provider has parts 1 and 2 of 3) become the job's
// progress, so that the send goes on with part 3. The parts this
// transport knows the job sent start the match even if they were created
// before since: a run that goes on from them is the job's.
//
// With reconcile: resend it lists nothing and returns an error wrapping
// transports.ErrCannotReconcile. So it does when the listing is answered
// with a 4xx other than 408 and 429, or with 501: the endpoint does not
// offer it (a Twilio-compatible API with only POST Messages.json) or does
// not let these credentials use it. Any other failure (a timeout, a 5xx, a
// 429) is the *transports.Error of a check to be made again.
func (t *Transport) SentSince(ctx context.Context, out transports.Outbound, since time.Time) ([]string, error) {
	if t.settings.Reconcile == ReconcileResend {
		return nil, fmt.Errorf("%w: reconcile is set to resend", transports.ErrCannotReconcile)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	api, rw := t.api(ctx)
	defer rw.closeBody()
	params := &openapi.ListMessageParams{}
	params.SetTo(providerAddr(out.To)).SetFrom(string(out.Account)).SetPageSize(100).SetLimit(100)
	msgs, err := api.ListMessage(params) // newest first
	if err != nil {
		e := t.classify(ctx, err, rw)
		if status := rw.status(); cannotList(status) {
			return nil, fmt.Errorf("%w (GET Messages.json answered HTTP %d; reconcile: resend skips the check): %w",
				transports.ErrCannotReconcile, status, e)
		}
		return nil, e
	}
	since = since.Truncate(time.Second) // Twilio's dates have whole seconds
	parts := smsParts(out)
	// The job's parts known sent (its progress) start the match, wherever
	// they fall: a run may go on from them after since, when the window
	// begins after the first attempt (its parts are this job's).
	var known []string
	if len(parts) > 1 {
		if known = t.sentSoFar(out.ID); len(known) > len(parts) {
			known = nil
		}
	}
	sids, bodies := slices.Clone(known), slices.Clone(parts[:len(known)])
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Sid == nil || m.Body == nil || m.DateCreated == nil || slices.Contains(known, *m.Sid) {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, *m.DateCreated)
		if err == nil && !created.Before(since) {
			sids, bodies = append(sids, *m.Sid), append(bodies, *m.Body)
		}
	}
	complete, partial := matchParts(sids, bodies, parts)
	var ids []string
	for _, set := range complete {
		whole := strings.Join(set, ",")
		if len(set) > 1 {
			// Recorded before the core adopts it: reports on its parts
			// may be waiting. Another job's is recorded as it was.
			if e := t.recordParts(ctx, set, whole); e != nil {
				return nil, e
			}
		}
		ids = append(ids, whole)
	}
	if len(parts) > 1 {
		t.resumeAfter(out.ID, complete, partial)
	}
	return ids, nil
}

// resumeAfter makes what SentSince found at the provider of job's parts its
// progress: the parts of a send cut short (partial) are not sent again. The
// job's own parts, known from an earlier attempt, are kept unless partial
// goes on from them; a complete send that does is the job's, whole.
func (t *Transport) resumeAfter(job string, complete [][]string, partial []string) {
	t.parts.mu.Lock()
	defer t.parts.mu.Unlock()
	known := t.parts.progress[job].sids
	for _, set := range complete {
		if len(known) > 0 && slices.Equal(set[:len(known)], known) {
			delete(t.parts.progress, job) // adopted by the core
			return
		}
	}
	if len(partial) > len(known) && slices.Equal(partial[:len(known)], known) {
		t.parts.progress[job] = sentParts{sids: slices.Clone(partial), at: t.now()}
	}
}

// cannotList reports whether an HTTP status answering the listing of
// messages means it cannot be used at all, rather than not now.
func cannotList(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return false
	case status >= 400 && status < 500:
		return true
	}
	return status == http.StatusNotImplemented
}

// rewriter sends twilio-go's requests to the configured base URL under the
// Send's context, and remembers the response's status and Retry-After.
type rewriter struct {
	base *url.URL
	next http.RoundTripper
	ctx  context.Context

	resp *http.Response // last response, closed by closeBody
}

func (rw *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(rw.ctx)
	r.URL.Scheme = rw.base.Scheme
	r.URL.Host = rw.base.Host
	r.URL.Path = strings.TrimRight(rw.base.Path, "/") + req.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	resp, err := rw.next.RoundTrip(r)
	if err == nil {
		rw.resp = resp
		if r.Method == http.MethodPost && resp.StatusCode/100 == 2 {
			onlySid(resp)
		}
	}
	return resp, err
}

// maxAnswer bounds the answer to a send that onlySid reads.
const maxAnswer = 1 << 20

// onlySid gives twilio-go, of the Message resource that answers a send,
// only its sid: all Send reads. twilio-go decodes the whole resource (some
// 30 fields, 1-2 KiB) with encoding/json into its struct, which took 60% of
// a send's CPU; finding the sid is a scan. If there is none at the top
// level, the answer is left whole.
func onlySid(resp *http.Response) {
	var body []byte
	var err error
	if n := resp.ContentLength; n > 0 && n <= maxAnswer {
		// Read in one allocation: the answer's length is known.
		body = make([]byte, n)
		var got int
		got, err = io.ReadFull(resp.Body, body)
		body = body[:got]
	} else {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	}
	resp.Body.Close()
	if err != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return
	}
	if sid, ok := topLevelString(body, "sid"); ok {
		body = append(append([]byte(`{"sid":`), sid...), '}')
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
}

// errReader returns err once what came before is read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// topLevelString returns the JSON string (quoted, as written) that is the
// value of key in the top-level object of doc, if there is one.
func topLevelString(doc []byte, key string) ([]byte, bool) {
	depth := 0
	expectKey := false // at depth 1, the next string is a key
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; c {
		case '{':
			depth++
			expectKey = depth == 1
		case '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			end := stringEnd(doc, i)
			if end < 0 {
				return nil, false
			}
			if depth == 1 && expectKey {
				expectKey = false
				if string(doc[i+1:end]) == key {
					// The value: after the colon, a string or not.
					j := end + 1
					for j < len(doc) && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r' || doc[j] == ':') {
						j++
					}
					if j < len(doc) && doc[j] == '"' {
						if e := stringEnd(doc, j); e > j {
							return doc[j : e+1], true
						}
					}
					return nil, false
				}
			}
			i = end
		}
	}
	return nil, false
}

// stringEnd returns the index of the quote that ends the JSON string
// starting at doc[start], or -1.
func stringEnd(doc []byte, start int) int {
	for i := start + 1; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// closeBody closes the last response body: twilio-go leaves error bodies open.
func (rw *rewriter) closeBody() {
	if rw.resp != nil {
		rw.resp.Body.Close()
	}
}

func (rw *rewriter) status() int {
	if rw.resp == nil {
		return 0
	}
	return rw.resp.StatusCode
}

// classify turns a twilio-go error into a *transports.Error.
func (t *Transport) classify(ctx context.Context, err error, rw *rewriter) *transports.Error {
	e := &transports.Error{Provider: provider}
	var rest *client.TwilioRestError
	switch {
	case errors.As(err, &rest):
		status := rest.Status
		if status == 0 {
			status = rw.status()
		}
		e.Kind = kindFor(status, rest.Code)
		if rest.Code != 0 {
			e.Code = strconv.Itoa(rest.Code)
		}
		e.Message = rest.Message
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	case rw.status() >= 300:
		// An error answer that is not Twilio's JSON (a proxy's HTML page).
		e.Kind = kindFor(rw.status(), 0)
		e.Message = fmt.Sprintf("HTTP %d without a Twilio error body", rw.status())
	case ctx.Err() != nil:
		e.Kind = transports.KindUnavailable
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			e.Message = "request timed out"
		} else {
			e.Message = "request canceled"
		}
	case rw.resp == nil:
		// No response at all: DNS, connection refused, TLS, reset.
		e.Kind = transports.KindUnavailable
		e.Message = err.Error()
	default:
		// A 2xx answer we could not decode.
		e.Kind = transports.KindUnknown
		e.Message = "unreadable response: " + err.Error()
	}
	if rw.resp != nil {
		e.RetryAfter = retryAfter(rw.resp.Header.Get("Retry-After"), t.now())
	}
	e.Message = t.redact(e.Message)
	return e
}

// kindFor classifies a Twilio error by HTTP status and error code.
// See https://www.twilio.com/docs/api/errors.
func kindFor(status, code int) transports.Kind {
	switch code {
	case 20429, // Too Many Requests
		14107, // too many replies between two numbers
		21611: // the From number's queue is full
		return transports.KindRateLimited
	case 20003, // Authenticate
		20005,        // account not active
		20404,        // resource not found: on Messages.json, the account SID is wrong
		21222, 21224: // credentials refused by twilio-go (illegal characters)
		return transports.KindAuth
	case 21211, // invalid 'To' phone number
		21217, // phone number does not appear to be valid
		21614, // 'To' is not a valid mobile number
		21604: // 'To' is required
		return transports.KindInvalidAddress
	case 21610, // recipient replied STOP (unsubscribed)
		21612: // 'To' not reachable via SMS from this 'From'
		return transports.KindUnreachable
	case 21408: // permission to send to this region is not enabled
		return transports.KindRejected
	}
	switch {
	case status == http.StatusTooManyRequests:
		return transports.KindRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return transports.KindAuth
	case status >= 500:
		return transports.KindUnavailable
	case status == http.StatusRequestTimeout:
		return transports.KindUnavailable
	case status >= 400:
		return transports.KindRejected
	}
	return transports.KindUnknown
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if when, err := http.ParseTime(h); err == nil && when.After(now) {
		return when.Sub(now)
	}
	return 0
}

// redact removes the auth token from a message, in case a provider or a
// library ever echoes it.
func (t *Transport) redact(s string) string {
	if tok := t.settings.AuthToken; tok != "" {
		s = strings.ReplaceAll(s, tok, "[redacted]")
	}
	return s
}
