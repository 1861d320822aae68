package sms

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"xmppgw/transports"
)

// Limits on one webhook request. Twilio's bodies are a few KiB.
const (
	maxWebhookBody = 64 << 10
	webhookBudget  = 10 * time.Second
)

// emptyTwiML answers an inbound message without replying to it.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// errorTexts describes common delivery error codes of status callbacks.
// See https://www.twilio.com/docs/api/errors.
var errorTexts = map[string]string{
	"30003": "Unreachable destination handset",
	"30004": "Message blocked",
	"30005": "Unknown destination handset",
	"30006": "Landline or unreachable carrier",
	"30007": "Carrier violation (filtered)",
	"30008": "Unknown error",
}

// statusOverrides are Twilio's connection overrides on the status
// callback of every message sent: by default Twilio retries a callback
// only when it cannot connect, so a report answered 503 (the store could
// not take it) would be lost; with these it retries any failure, up to 5
// times. A fragment is not sent in the request.
const statusOverrides = "#rc=5&rp=all"

// Webhooks implements transports.WebhookReceiver. The handler expects the
// "/hooks/<name>" prefix stripped and serves POST /inbound and POST /status.
func (t *Transport) Webhooks(sink transports.Sink) http.Handler {
	t.parts.mu.Lock()
	t.parts.sink = sink
	t.parts.mu.Unlock()
	return &webhooks{t: t, sink: sink}
}

type webhooks struct {
	t    *Transport
	sink transports.Sink
}

func (h *webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var handle func(http.ResponseWriter, *http.Request, url.Values)
	switch r.URL.Path {
	case "/inbound":
		handle = h.inbound
	case "/status":
		handle = h.status
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "sms: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		http.Error(w, "sms: want an application/x-www-form-urlencoded body", http.StatusUnsupportedMediaType)
		return
	}
	// Twilio gives up after 15 s; storing must finish well within that.
	ctx, cancel := context.WithTimeout(r.Context(), webhookBudget)
	defer cancel()
	r = r.WithContext(ctx)
	// The form is parsed once, from the body alone (r.ParseForm would parse
	// the query too and copy every value into r.Form).
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			http.Error(w, "sms: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "sms: the body could not be read", http.StatusBadRequest)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "sms: malformed form body", http.StatusBadRequest)
		return
	}

	// Twilio signs the URL it called (with any query) and the POST params.
	signed := h.t.publicURL + r.URL.Path
	if r.URL.RawQuery != "" {
		signed += "?" + r.URL.RawQuery
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0]
	}
	// The signature is checked without the fragment of the URL called;
	// a status callback's may also be signed over the URL the gateway set,
	// with its connection overrides (statusOverrides).
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !h.t.validator.Validate(signed, params, sig) &&
		(r.URL.Path != "/status" || !h.t.validator.Validate(signed+statusOverrides, params, sig)) {
		h.t.quiet.Warn("sms: webhook with a missing or bad signature", "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(w, "sms: bad signature", http.StatusForbidden)
		return
	}
	if subtle.ConstantTimeCompare([]byte(form.Get("AccountSid")), []byte(h.t.settings.AccountSID)) != 1 {
		h.t.quiet.Warn("sms: webhook for another account", "path", r.URL.Path, "remote", r.RemoteAddr)
		http.Error(w, "sms: wrong account", http.StatusForbidden)
		return
	}
	if err := checkSIDs(form); err != nil {
		http.Error(w, "sms: "+err.Error(), http.StatusBadRequest)
		return
	}
	handle(w, r, form)
}

// checkSIDs refuses a MessageSid that is not a whole provider id: Twilio's
// two letters and 32 hex digits, or a UUID (Twilio-compatible providers).
// Twilio signs its params' keys and values run together, so a captured
// webhook can be reshaped under the same signature by folding the next
// key and its value into MessageSid ("SM…" + "NumMedia0", that key left
// out), which would make a replay look like a new message. A fixed form
// leaves nothing to fold. SmsMessageSid and SmsSid, when present, must be
// the same id.
func checkSIDs(form url.Values) error {
	sid := form.Get("MessageSid")
	if sid == "" {
		return nil // each handler names what it needs
	}
	if !twilioSID.MatchString(sid) && !uuidSID.MatchString(sid) {
		return errors.New("invalid MessageSid")
	}
	for _, k := range []string{"SmsMessageSid", "SmsSid"} {
		if v, ok := form[k]; ok && (len(v) != 1 || v[0] != sid) {
			return errors.New(k + " is not MessageSid")
		}
	}
	return nil
}

var (
	twilioSID = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)
	uuidSID   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// inbound passes an incoming SMS to the sink.
func (h *webhooks) inbound(w http.ResponseWriter, r *http.Request, form url.Values) {
	sid := form.Get("MessageSid")
	for _, f := range []string{"MessageSid", "From", "To"} {
		if form.Get(f) == "" {
			http.Error(w, "sms: missing "+f, http.StatusBadRequest)
			return
		}
	}
	from := senderAddr(h.t, form.Get("From"))
	to, err := h.t.numberAddr(form.Get("To"))
	if err != nil {
		http.Error(w, "sms: invalid To: "+err.Error(), http.StatusBadRequest)
		return
	}
	media, dropped, err := h.t.inboundMedia(r.Context(), sid, form)
	if err != nil {
		h.t.log.Error("sms: inbound media not stored; Twilio will retry", "provider_id", sid, "error", err)
		http.Error(w, "sms: try again later", http.StatusServiceUnavailable)
		return
	}
	body := form.Get("Body")
	if dropped > 0 {
		if body != "" {
			body += "\n"
		}
		body += fmt.Sprintf("[%d attachment(s) could not be relayed]", dropped)
	}
	in := transports.Inbound{
		Account: to,
		From:    from,
		ID:      sid,
		Body:    body,
		Time:    h.t.now(),
		Media:   media,
	}
	err = h.sink.Deliver(r.Context(), in)
	if errors.Is(err, transports.ErrNoRecipient) {
		err = nil // acknowledged: Twilio retrying would not help
	}
	if err != nil {
		h.t.log.Error("sms: inbound not stored; Twilio will retry", "provider_id", sid, "error", err)
		http.Error(w, "sms: try again later", http.StatusServiceUnavailable)
		return
	}
	h.t.log.Debug("sms: inbound", "provider_id", sid, "from", string(from), "to", string(to), "body", in.Body)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, emptyTwiML)
}

// status passes a delivery report to the sink.
func (h *webhooks) status(w http.ResponseWriter, r *http.Request, form url.Values) {
	sid, status := form.Get("MessageSid"), form.Get("MessageStatus")
	if sid == "" || status == "" {
		http.Error(w, "sms: missing MessageSid or MessageStatus", http.StatusBadRequest)
		return
	}
	st := transports.Status{RemoteID: sid}
	switch status {
	case "sent":
		st.State = transports.StateSent
	case "delivered":
		st.State = transports.StateDelivered
	case "undelivered", "failed":
		st.State = transports.StateFailed
		st.Code = form.Get("ErrorCode")
		st.Text = failureText(st.Code, form.Get("ErrorMessage"))
	default:
		// queued, accepted, sending, scheduled, ...: nothing to report.
		h.t.log.Debug("sms: status ignored", "provider_id", sid, "status", status)
		w.WriteHeader(http.StatusOK)
		return
	}
	// A part of a send of several messages is reported on the send.
	rep, err := h.t.partReport(r.Context(), st, r.URL.RawQuery == partMarker)
	if err == nil && rep != nil {
		err = h.sink.Report(r.Context(), *rep)
	}
	if err != nil {
		h.t.log.Error("sms: status not stored; Twilio will retry", "provider_id", sid, "error", err)
		http.Error(w, "sms: try again later", http.StatusServiceUnavailable)
		return
	}
	h.t.log.Debug("sms: status", "provider_id", sid, "status", status, "code", st.Code)
	w.WriteHeader(http.StatusOK)
}

// failureText is a short human-readable reason for a delivery failure.
func failureText(code, message string) string {
	if s, ok := errorTexts[code]; ok {
		return s
	}
	if message != "" && len(message) <= 200 {
		return message
	}
	return "delivery failed"
}
