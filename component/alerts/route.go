package alerts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
)

// Kind is what kind of destination a JID is, which decides how much text
// it gets.
type Kind int

// Kinds of destination.
const (
	XMPP Kind = iota // an XMPP user: a chat message from the gateway, the full text
	SMS              // a phone number: one SMS
	Chat             // a contact of another network (a Telegram chat): the full text
)

func (k Kind) String() string {
	switch k {
	case XMPP:
		return "xmpp"
	case SMS:
		return "sms"
	case Chat:
		return "chat"
	}
	return "unknown"
}

// Destination is a resolved recipient of alerts.
type Destination struct {
	JID  string // canonical: equal destinations have equal JIDs
	Kind Kind
}

// Queue stores alert texts for delivery. The gateway core implements it.
// Its methods are safe for concurrent use.
type Queue interface {
	// Resolve checks a destination as written in the config or a request
	// (a JID; implementations may accept more, such as a bare phone
	// number) and returns it in canonical form. It does no I/O. Its errors
	// are shown to the caller and say what is wrong.
	Resolve(to string) (Destination, error)

	// Queue stores text for d under id, a stable id of this notification
	// for d. A nil error means it is stored and will be delivered; dup
	// reports that the same id and text were stored a short while ago (a
	// retried request), so nothing more was. An error wrapping ErrLimited
	// means a rate cap refused it; any other error means the store could
	// not take it.
	Queue(ctx context.Context, d Destination, id, text string) (dup bool, err error)
}

// ErrLimited is wrapped by Queue errors that refuse a text over a rate cap
// (a user's hourly SMS limit).
var ErrLimited = errors.New("over the rate limit")

// Route sends the alerts whose labels match to a list of destinations.
type Route struct {
	Match    map[string]string // label -> value; an empty value matches a missing label
	To       []string
	Escalate []Step // for a group nobody acknowledges, in order of After
}

// Step is a step of a route's escalation: a group still firing and
// unacknowledged After its first notification goes to To too.
type Step struct {
	After time.Duration
	To    []string
}

// matches reports whether every label of r.Match has its value in labels.
func (r Route) matches(labels map[string]string) bool {
	for k, v := range r.Match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// route is a Route with its destinations resolved.
type route struct {
	Route
	id    string // stable across config edits that keep its match and to (routeID)
	dests []Destination
	steps [][]Destination // Escalate's, resolved
}

// routeID is the identity of a route: a hash of its match labels and its
// destinations.
func routeID(r Route, dests []Destination) string {
	parts := []string{"route"}
	for _, k := range slices.Sorted(maps.Keys(r.Match)) {
		parts = append(parts, k, r.Match[k])
	}
	parts = append(parts, "\x01")
	for _, d := range dests {
		parts = append(parts, d.JID)
	}
	slices.Sort(parts[len(parts)-len(dests):])
	return hashID(parts...)
}

// group is alerts going to the same destinations together: a route's
// share of a notification (route is its index), or all of a notification's
// alerts for the destinations a request names (route is -1).
type group struct {
	alerts []Alert
	dests  []Destination
	route  int
}

// groups splits n's alerts by the first route that matches each, keeping
// the routes' order; it also returns how many alerts no route takes.
func groups(routes []route, n *Notification) ([]group, int) {
	byRoute := make([][]Alert, len(routes))
	unrouted := 0
next:
	for _, a := range n.Alerts {
		for i, r := range routes {
			if r.matches(a.Labels) {
				byRoute[i] = append(byRoute[i], a)
				continue next
			}
		}
		unrouted++
	}
	var out []group
	for i, as := range byRoute {
		if len(as) > 0 {
			out = append(out, group{alerts: as, dests: routes[i].dests, route: i})
		}
	}
	return out, unrouted
}

// notificationID is the stable id of a group of alerts for one
// destination: the same for Alertmanager's retries of a notification.
// episode is the key of the open group it notifies ("" for none): an
// alert that resolves and fires again opens a new group, whose
// notifications must not pass for a retry of the last episode's (their
// texts are the same when the new group draws the same code).
func notificationID(n *Notification, episode string, alerts []Alert, dest string) string {
	fps := make([]string, len(alerts))
	for i, a := range alerts {
		fps[i] = a.Status + ":" + fingerprint(a)
	}
	slices.Sort(fps)
	return hashID("am", n.Receiver, n.GroupKey, n.Status, strings.Join(fps, ","), dest, episode)
}

// simpleID is the id of a simple request for one destination: stable if
// the caller gave an id, else new each time.
func simpleID(id, dest string) string {
	if id == "" {
		var b [12]byte
		rand.Read(b[:])
		return "alert-" + hex.EncodeToString(b[:])
	}
	return hashID("simple", id, dest)
}

// fingerprint is Alertmanager's fingerprint of a, or a hash of its labels
// if the sender left it out.
func fingerprint(a Alert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		parts = append(parts, k, a.Labels[k])
	}
	return hashID(parts...)
}

func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "alert-" + hex.EncodeToString(h.Sum(nil)[:12])
}
