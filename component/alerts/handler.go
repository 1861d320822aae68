package alerts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"xmppgw/internal/quietlog"
)

// MaxBody is the largest request body accepted, in bytes.
const MaxBody = 1 << 20

// MinToken is the shortest bearer token New accepts.
const MinToken = 16

// queueTimeout bounds the store writes of one request.
const queueTimeout = 15 * time.Second

// Options configure a Handler. Token, Queue and Logger are required.
type Options struct {
	Token  string  // the bearer token callers must send
	Routes []Route // for requests without "to": the first route matching an alert's labels takes it
	Queue  Queue
	Logger *slog.Logger
	// Book keeps the open alert groups, for codes, answers and
	// escalation (see Desk); nil leaves them out: every notification is
	// delivered as it comes.
	Book Book
	// Silencer creates silences for "silence" answers; nil turns them
	// off.
	Silencer Silencer
	// Label names a recipient in what everyone is told ("Dana Scully
	// (+15557654321)"); nil: a phone by its number, anyone else by JID.
	Label func(jid string) string
}

// Handler serves POST /alerts. It is safe for concurrent use.
type Handler struct {
	token  [sha256.Size]byte // compared in constant time
	routes []route
	q      Queue
	log    *slog.Logger
	quiet  *slog.Logger // for refusals of requests without the token (quietlog)
	desk   *Desk        // nil without a Book
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler, resolving every route's destinations. An error
// names the option at fault ("routes[0].to[1]: ...", "token: ...").
func New(o Options) (*Handler, error) {
	if len(o.Token) < MinToken {
		return nil, fmt.Errorf("token: must be at least %d characters long", MinToken)
	}
	if o.Queue == nil || o.Logger == nil {
		return nil, errors.New("internal error: Queue and Logger are required")
	}
	h := &Handler{token: sha256.Sum256([]byte(o.Token)), q: o.Queue, log: o.Logger, quiet: quietlog.New(o.Logger)}
	for i, r := range o.Routes {
		rr := route{Route: r}
		dests, err := h.resolve(r.To)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].%w", i, err)
		}
		rr.dests, rr.id = dests, routeID(r, dests)
		for k, step := range r.Escalate {
			if step.After <= 0 {
				return nil, fmt.Errorf("routes[%d].escalate[%d].after: must be positive", i, k)
			}
			dests, err := h.resolve(step.To)
			if err != nil {
				return nil, fmt.Errorf("routes[%d].escalate[%d].%w", i, k, err)
			}
			rr.steps = append(rr.steps, dests)
		}
		h.routes = append(h.routes, rr)
	}
	if o.Book != nil {
		h.desk = &Desk{book: o.Book, q: o.Queue, routes: h.routes, silencer: o.Silencer, log: o.Logger, now: time.Now, label: o.Label,
			refused: map[string]bool{}, silencing: map[string]bool{}}
		if h.desk.label == nil {
			h.desk.label = who
		}
	}
	return h, nil
}

// Desk is the Handler's desk, which takes answers and escalates; nil
// without Options.Book.
func (h *Handler) Desk() *Desk { return h.desk }

// resolve resolves destinations, dropping repeats; an error names the bad
// one: "to[2]: ...".
func (h *Handler) resolve(to []string) ([]Destination, error) {
	var out []Destination
	seen := map[string]bool{}
	for i, s := range to {
		d, err := h.q.Resolve(s)
		if err != nil {
			return nil, fmt.Errorf("to[%d]: %w", i, err)
		}
		if !seen[d.JID] {
			seen[d.JID] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// Result is the JSON answer to a request.
type Result struct {
	Queued     int    `json:"queued"`               // texts stored for delivery
	Duplicates int    `json:"duplicates"`           // texts already stored by an earlier request
	Unrouted   int    `json:"unrouted,omitempty"`   // alerts no route took
	Suppressed int    `json:"suppressed,omitempty"` // groups acknowledged and unchanged: not sent again
	Error      string `json:"error,omitempty"`
}

// delivery is one text for one destination.
type delivery struct {
	dest     Destination
	id, text string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, h.quiet.With("remote", r.RemoteAddr), http.StatusMethodNotAllowed, Result{Error: "use POST"})
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xmppgw alerts"`)
		h.answer(w, h.quiet.With("remote", r.RemoteAddr), http.StatusUnauthorized, Result{Error: "a valid Authorization: Bearer token is required"})
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.answer(w, log, http.StatusRequestEntityTooLarge, Result{Error: fmt.Sprintf("the body is larger than %d bytes", MaxBody)})
			return
		}
		h.answer(w, log, http.StatusBadRequest, Result{Error: "cannot read the body"})
		return
	}
	log.Debug("alert request", "body", string(data))
	req, err := Parse(data)
	if err != nil {
		h.answer(w, log, http.StatusBadRequest, Result{Error: err.Error()})
		return
	}
	// What is begun is finished even if the caller hangs up: its retry is
	// then answered from the store.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), queueTimeout)
	defer cancel()
	batches, unrouted, suppressed, status, err := h.deliveries(ctx, req)
	if err != nil {
		finish(ctx, log, batches)
	}
	if status == http.StatusServiceUnavailable {
		log.Error("cannot keep an alert group; the caller should retry", "err", err)
		w.Header().Set("Retry-After", "30")
		h.answer(w, log, status, Result{Error: "the gateway cannot store alerts right now; retry later"})
		return
	}
	if err != nil {
		h.answer(w, log, status, Result{Error: err.Error(), Unrouted: unrouted})
		return
	}
	res := Result{Unrouted: unrouted, Suppressed: suppressed}
	status = http.StatusOK
	for i, b := range batches {
		stored := true
		for _, d := range b.ds {
			dup, err := h.q.Queue(ctx, d.dest, d.id, d.text)
			switch {
			case errors.Is(err, ErrLimited):
				log.Warn("alert refused over a rate limit", "to", d.dest.JID, "err", err)
				res.Error, status, stored = err.Error(), http.StatusTooManyRequests, false
				continue
			case err != nil:
				log.Error("cannot store an alert; the caller should retry", "to", d.dest.JID, "err", err)
				finish(ctx, log, batches[i:])
				w.Header().Set("Retry-After", "30")
				res.Error = "the gateway cannot store alerts right now; retry later"
				h.answer(w, log, http.StatusServiceUnavailable, res)
				return
			case dup:
				res.Duplicates++
			default:
				res.Queued++
			}
			log.Debug("alert queued", "to", d.dest.JID, "id", d.id, "duplicate", dup)
		}
		if b.done == nil {
			continue
		}
		switch err := b.done(ctx, stored); {
		case errors.Is(err, ErrLimited):
			log.Warn("alert refused over a rate limit", "err", err)
			res.Error, status = err.Error(), http.StatusTooManyRequests
		case err != nil:
			log.Error("cannot close a resolved alert group; the caller should retry", "err", err)
			finish(ctx, log, batches[i+1:])
			w.Header().Set("Retry-After", "30")
			res.Error = "the gateway cannot store alerts right now; retry later"
			h.answer(w, log, http.StatusServiceUnavailable, res)
			return
		}
	}
	if unrouted > 0 {
		log.Warn("alerts matched no route and were dropped", "count", unrouted)
	}
	h.answer(w, log, status, res)
}

// authorized checks the bearer token in constant time.
func (h *Handler) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], h.token[:]) == 1
}

// batch is the texts of one group, and what to do once they are queued
// (done, if not nil, is called once, with whether all of them were).
type batch struct {
	ds   []delivery
	done func(ctx context.Context, stored bool) error
}

// finish calls the done of batches not queued.
func finish(ctx context.Context, log *slog.Logger, batches []batch) {
	for _, b := range batches {
		if b.done != nil {
			if err := b.done(ctx, false); err != nil {
				log.Warn("an alert group left as it was", "err", err)
			}
		}
	}
}

// deliveries turns a request into texts for destinations, and counts the
// alerts no route takes and the groups not sent again. On error it returns
// the HTTP status to answer with, and the batches made so far, to finish.
func (h *Handler) deliveries(ctx context.Context, req Request) (out []batch, unrouted, suppressed, status int, err error) {
	var explicit []Destination
	if len(req.To) > 0 {
		if explicit, err = h.resolve(req.To); err != nil {
			return nil, 0, 0, http.StatusBadRequest, err
		}
	}
	add := func(dests []Destination, t Text, id func(dest string) string) {
		out = append(out, batch{ds: textDeliveries(dests, t, id)})
	}
	if req.Alerts == nil {
		dests := explicit
		if len(dests) == 0 {
			for _, r := range h.routes {
				if r.matches(nil) {
					dests = r.dests
					break
				}
			}
		}
		if len(dests) == 0 {
			return nil, 0, 0, http.StatusUnprocessableEntity, errors.New(`no destination: give "to", or configure a route without match`)
		}
		add(dests, PlainText(req.Text), func(dest string) string { return simpleID(req.ID, dest) })
		return out, 0, 0, 0, nil
	}
	n := req.Alerts
	gs := []group{{alerts: n.Alerts, dests: explicit, route: -1}}
	if len(explicit) == 0 {
		gs, unrouted = groups(h.routes, n)
	}
	if len(gs) == 0 {
		return nil, unrouted, 0, http.StatusUnprocessableEntity, fmt.Errorf("no route matches any of the %d alerts, and the request gives no \"to\"", unrouted)
	}
	for _, g := range gs {
		if h.desk == nil {
			add(g.dests, Render(n, g.alerts), func(dest string) string { return notificationID(n, "", g.alerts, dest) })
			continue
		}
		ds, quiet, done, err := h.desk.notify(ctx, n, g)
		if err != nil {
			return out, unrouted, 0, http.StatusServiceUnavailable, err
		}
		if quiet {
			suppressed++
		}
		out = append(out, batch{ds: ds, done: done})
	}
	return out, unrouted, suppressed, 0, nil
}

// textDeliveries is t for each destination: one SMS for a phone, else the
// whole text.
func textDeliveries(dests []Destination, t Text, id func(dest string) string) []delivery {
	var out []delivery
	texts := map[bool]string{} // one SMS or not -> the text
	for _, d := range dests {
		sms := d.Kind == SMS
		text, ok := texts[sms]
		if !ok {
			if sms {
				text = t.SMS()
			} else {
				text = t.Full()
			}
			texts[sms] = text
		}
		out = append(out, delivery{dest: d, id: id(d.JID), text: text})
	}
	return out
}

// answer writes res as JSON with status, and logs refusals.
func (h *Handler) answer(w http.ResponseWriter, log *slog.Logger, status int, res Result) {
	switch {
	case status == http.StatusOK:
		log.Info("alerts queued", "queued", res.Queued, "duplicates", res.Duplicates, "suppressed", res.Suppressed)
	case status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests:
		log.Warn("alert request refused", "status", status, "reason", res.Error)
	}
	b, _ := json.Marshal(res)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
