package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/alerts"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// AlertQueue stores alert texts (package alerts) for delivery through a set
// of gateways, in the same queues as every other message:
//
//   - to a transport's contact (+15551234567@sms.example.com), as a job sent
//     as the alerts user: from its number on an SMS transport, paced,
//     retried, and reported to that user if it fails for good;
//   - to anyone else, as a chat message from the first gateway's JID.
type AlertQueue struct {
	from jid.JID    // the alerts user, bare; zero if none is configured
	gws  []*Gateway // the first one's JID sends to XMPP users
	now  func() time.Time

	mu      sync.Mutex
	refused map[string]time.Time // delivery ids refused over a rate cap (counted once), when
}

// maxRefused bounds AlertQueue.refused: past it, the id refused first is
// forgotten.
const maxRefused = 4096

var _ alerts.Queue = (*AlertQueue)(nil)

// NewAlertQueue returns an AlertQueue over gws, sending to contacts as from
// (a bare JID; "" if alerts go to XMPP users only).
func NewAlertQueue(from string, gws []*Gateway) (*AlertQueue, error) {
	if len(gws) == 0 {
		return nil, errors.New("component: alerts need at least one gateway")
	}
	q := &AlertQueue{gws: gws, now: time.Now}
	if from != "" {
		j, err := jid.Parse(from)
		if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
			return nil, fmt.Errorf("component: alerts sender %q is not a bare JID", from)
		}
		q.from = j
	}
	return q, nil
}

// alertDest is a resolved destination: a contact of gateway g (remote,
// reached from account), or an XMPP user if g is nil.
type alertDest struct {
	alerts.Destination
	g               *Gateway
	remote, account transports.Addr
}

// Resolve implements alerts.Queue. Besides JIDs it takes a bare
// international number (+15551234567), meaning the first SMS transport.
func (q *AlertQueue) Resolve(to string) (alerts.Destination, error) {
	d, err := q.resolve(to)
	return d.Destination, err
}

func (q *AlertQueue) resolve(to string) (alertDest, error) {
	s := strings.TrimSpace(to)
	if strings.HasPrefix(s, "+") && !strings.ContainsAny(s, "@/") {
		for _, g := range q.gws {
			if g.o.Identity.Gateway == "sms" {
				return q.contact(g, s)
			}
		}
		return alertDest{}, fmt.Errorf("%q: a phone number needs an SMS transport, and there is none", s)
	}
	j, err := jid.Parse(s)
	if err != nil {
		return alertDest{}, fmt.Errorf("%q is not a JID", s)
	}
	for _, g := range q.gws {
		if g.domain.Domainpart() != j.Domainpart() {
			continue
		}
		if j.Localpart() == "" {
			return alertDest{}, fmt.Errorf("%q is the gateway itself; write ADDRESS@%s", s, j.Domainpart())
		}
		return q.contact(g, mapping.AddrOf(j))
	}
	if j.Localpart() == "" {
		return alertDest{}, fmt.Errorf("%q is not a user's JID (user@domain)", s)
	}
	if j.Resourcepart() != "" {
		// Answers are taken by bare JID: with a resource, the recipient
		// could never acknowledge.
		return alertDest{}, fmt.Errorf("%q: write a bare JID (user@domain), without a /resource: answers come from it, whatever the client", s)
	}
	return alertDest{Destination: alerts.Destination{JID: j.String(), Kind: alerts.XMPP}}, nil
}

// contact resolves addr, a contact of g.
func (q *AlertQueue) contact(g *Gateway, addr string) (alertDest, error) {
	remote, err := g.o.Transport.ParseAddr(addr)
	if err != nil {
		return alertDest{}, err
	}
	c, err := g.contactJID(remote)
	if err != nil {
		return alertDest{}, fmt.Errorf("%q: %v", addr, err)
	}
	if q.from.Equal(jid.JID{}) {
		return alertDest{}, fmt.Errorf("%s: alerts to contacts of transport %q are sent as alerts.from, which is not set", c, g.name)
	}
	var account transports.Addr
	if g.linker == nil {
		// An SMS goes out from the alerts user's own number. A linked
		// contact (a Telegram chat) needs no link to that user: the
		// operator's config names it.
		a, ok := g.o.Transport.Accounts()[q.from.String()]
		if !ok {
			return alertDest{}, fmt.Errorf("%s: alerts are sent as %s, who has no %s account on transport %q (add it to that transport's numbers)",
				c, q.from, g.o.Identity.Name, g.name)
		}
		account = a
	}
	kind := alerts.Chat
	if g.o.Identity.Gateway == "sms" {
		kind = alerts.SMS
	}
	return alertDest{Destination: alerts.Destination{JID: c.String(), Kind: kind}, g: g, remote: remote, account: account}, nil
}

// Queue implements alerts.Queue.
func (q *AlertQueue) Queue(ctx context.Context, d alerts.Destination, id, text string) (bool, error) {
	r, err := q.resolve(d.JID)
	if err != nil {
		return false, err
	}
	if r.g == nil {
		return q.gws[0].queueAlertStanza(ctx, r.JID, id, text, q.now())
	}
	dup, err := r.g.queueAlertJob(ctx, q.from.String(), r.account, r.remote, id, text, q.now())
	if errors.Is(err, alerts.ErrLimited) && q.firstRefusal(r.JID, id) {
		// The desk tries a refused delivery again until the cap has room:
		// counted once, not on every try.
		r.g.Stats.OverQuota.Add(1)
	} else if err == nil {
		q.mu.Lock()
		delete(q.refused, r.JID+"\x00"+id)
		q.mu.Unlock()
	}
	return dup, err
}

// firstRefusal records that id to dest was refused over a rate cap, and
// reports whether it was not before.
func (q *AlertQueue) firstRefusal(dest, id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := dest + "\x00" + id
	if _, ok := q.refused[k]; ok {
		return false
	}
	if q.refused == nil {
		q.refused = map[string]time.Time{}
	}
	if len(q.refused) >= maxRefused {
		oldest := ""
		for k, t := range q.refused {
			if oldest == "" || t.Before(q.refused[oldest]) {
				oldest = k
			}
		}
		delete(q.refused, oldest)
	}
	q.refused[k] = q.now()
	return true
}

// queueAlertJob stores an alert for a contact as a job from sender, like
// handleMessage does for a user's message: the user's hourly cap applies,
// the store dedupes a repeat of the same id and text, and the dispatcher
// takes it from there. A refusal over the cap is counted by the caller
// (AlertQueue.Queue), once per delivery.
func (g *Gateway) queueAlertJob(ctx context.Context, sender string, account, remote transports.Addr, id, text string, now time.Time) (bool, error) {
	if g.quota != nil && !g.quota.allows(sender, now) {
		return false, fmt.Errorf("%w: %s may send at most %d %s messages an hour", alerts.ErrLimited, sender, g.quota.limit, g.o.Identity.Name)
	}
	j := mapping.Job{
		Transport: g.name,
		Sender:    sender,
		Account:   string(account),
		Remote:    string(remote),
		Body:      text,
		StanzaID:  id,
		Shared:    len(g.ownersOfAccount(account)) > 1,
	}
	jobID, dup, err := g.o.Store.Jobs().Enqueue(ctx, j)
	if err != nil || dup {
		return dup, err
	}
	if g.quota != nil {
		g.quota.add(sender, now)
	}
	if g.o.Metrics != nil {
		g.outClock.mark(jobID, now)
	}
	j.ID, j.Created = jobID, now
	g.handOff(j)
	return false, nil
}

// alertWindow is how long an alert to an XMPP user is remembered, so that
// a retried request does not deliver it twice: between one and two windows
// (the store's dedupe keys do not expire by themselves, and Alertmanager
// repeats a notification on purpose after its repeat_interval).
const alertWindow = 10 * time.Minute

// queueAlertStanza stores an alert for an XMPP user as a chat message from
// the gateway's JID, and wakes the writer.
func (g *Gateway) queueAlertStanza(ctx context.Context, to, id, text string, now time.Time) (bool, error) {
	st := render(message{Type: "chat", ID: id, From: g.domain.String(), To: to, Body: text, OriginID: &originID{ID: id}})
	window := now.UnixMilli() / alertWindow.Milliseconds()
	dup, err := g.o.Store.ToXMPP().Accept(ctx, g.name, alertKey(id, to, text, window), st)
	if err != nil || dup {
		return dup, err
	}
	wake(g.wakeIn)
	// A retry in the next window is a duplicate too.
	if _, err := g.o.Store.ToXMPP().Accept(ctx, g.name, alertKey(id, to, text, window+1)); err != nil {
		g.log.Warn("cannot store an alert's dedupe key; a retry may deliver it twice", "id", id, "err", err)
	}
	return false, nil
}

// alertKey is the dedupe key of an alert to an XMPP user in a window.
func alertKey(id, to, text string, window int64) string {
	h := sha256.Sum256([]byte(text))
	return "alert:" + id + "\x00" + to + "\x00" + hex.EncodeToString(h[:12]) + "\x00" + strconv.FormatInt(window, 10)
}

// failureStanza tells to that the message id it sent through contact from
// failed with e. Servers drop error messages to a bare JID (RFC 6121
// 8.5.2.1.1), and alerts are sent as one, so a bare JID gets the reason as
// a chat message instead.
func failureStanza(id, from, to string, e *stanzaError) []byte {
	if strings.Contains(to, "/") {
		return render(message{Type: "error", ID: id, From: from, To: to, Error: e})
	}
	return render(message{Type: "chat", ID: "failed-" + id, From: from, To: to,
		Body: "Not delivered (" + e.Condition.XMLName.Local + "): " + e.Text})
}
