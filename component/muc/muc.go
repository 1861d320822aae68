package muc

import (
	"slices"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/transports"
)

func init() { core.Register(core.Module{Name: "muc", New: New}) }

// storeTimeout bounds a handler's store calls.
const storeTimeout = 5 * time.Second

// features are a room's disco#info features (XEP-0045 6.4), besides those
// of a contact.
var features = []string{stanza.NSMUC, "muc_persistent", "muc_membersonly", "muc_nonanonymous", "muc_unsecured"}

// rooms is the module built for one gateway.
type rooms struct {
	c      core.Core
	tr     transports.Rooms // nil for a transport with team inboxes only
	joined occupants
	turns  turns // presences answered off the read loop (presence.go)
}

var (
	_ core.Instance  = (*rooms)(nil)
	_ core.RoomSink  = (*rooms)(nil)
	_ core.InboxSink = (*rooms)(nil)
)

// New builds the module for c's gateway: nil unless its transport shows
// groups as rooms or has team inboxes.
func New(c core.Core) core.Instance {
	tr, groups := c.Transport().(transports.Rooms)
	_, inboxes := c.Transport().(transports.Inboxes)
	if !groups && !inboxes {
		return nil
	}
	return &rooms{c: c, tr: tr, turns: turns{life: c.Context}}
}

// Routes implements core.Instance.
func (r *rooms) Routes() []router.Route {
	var fs []router.Feature
	for _, f := range features {
		fs = append(fs, router.Feature{Var: f, Targets: router.Room})
	}
	return []router.Route{
		// Joins, presence updates and leaves; the room's features.
		{Kind: router.Presence, Types: []string{"", "unavailable"}, Targets: router.Occupant,
			Features: fs, Handler: router.HandlerFunc(r.presence)},
		// A join of a contact that is no group.
		{Kind: router.Presence, Types: []string{""}, Payload: joinName, Targets: router.Contact,
			Handler: router.HandlerFunc(r.noRoom)},
		// A join without a nick (nonick.go).
		{Kind: router.Presence, Types: []string{""}, Payload: joinName, Targets: router.Room,
			Handler: router.HandlerFunc(r.noNick)},
		// The user's messages to the room.
		{Kind: router.Message, Types: []string{"groupchat"}, Targets: router.Room,
			Handler: router.HandlerFunc(r.message)},
		// Private messages to an occupant: refused (private.go).
		{Kind: router.Message, Types: []string{"normal", "chat", "groupchat", "headline"}, Targets: router.Occupant,
			Handler: router.HandlerFunc(r.private)},
		// XEP-0410: self-pings of room/nick (ping.go).
		{Kind: router.IQ, Types: []string{"get"}, Payload: pingName, Targets: router.Occupant,
			Features: []router.Feature{{Var: selfPingFeature, Targets: router.Room}}, Handler: router.HandlerFunc(r.selfPing)},
		// XEP-0313: the room's archive.
		{Kind: router.IQ, Types: []string{"set"}, Payload: mamName, Targets: router.Room,
			Features: []router.Feature{{Var: stanza.NSMAM, Targets: router.Room}}, Handler: router.HandlerFunc(r.mam)},
		// Errors from an occupant's client: it is gone.
		{Kind: router.Message, Types: []string{"error"}, Targets: router.Room | router.Occupant,
			Handler: router.HandlerFunc(r.bounced)},
		{Kind: router.Presence, Types: []string{"error"}, Targets: router.Room | router.Occupant,
			Handler: router.HandlerFunc(r.bounced)},
	}
}

// occupants remembers, in memory, which full JIDs are in which room and
// under which nick.
type occupants struct {
	mu       sync.Mutex
	rooms    map[string]map[string]string // room bare JID -> full JID -> nick
	subjects map[string]string            // room bare JID -> its subject, sent on the last join
	// joining is, by occupantKey, the answers of the join that seated a
	// full JID (its self-presence, the history, the subject), which may
	// wait behind the user's earlier steps: nothing of the room reaches
	// it before them (XEP-0045 7.2); or later answers of the user's that
	// the room's traffic to it waits behind (await, order.go).
	joining map[string]*answers
}

// join records full in room as nick and reports whether it was in
// already. A full JID new to the room, or joining it again (rejoin: a
// join element, from a client that believes it left), is seated by a's
// answers (nil: at once): see joiningOf.
func (o *occupants) join(room, full, nick string, a *answers, rejoin bool) (was bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rooms == nil {
		o.rooms = map[string]map[string]string{}
	}
	occ := o.rooms[room]
	if occ == nil {
		occ = map[string]string{}
		o.rooms[room] = occ
	}
	_, was = occ[full]
	occ[full] = nick
	if (!was || rejoin) && a != nil {
		if o.joining == nil {
			o.joining = map[string]*answers{}
		}
		o.joining[room+"\x00"+full] = a
	}
	return was
}

// joiningOf returns the answers that what room sends full waits behind,
// if they are not written yet (those of the join that seated it, or later
// ones: await), or nil (see order.go).
func (o *occupants) joiningOf(room, full string) *answers {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := room + "\x00" + full
	a := o.joining[key]
	if a != nil && a.isWritten() {
		delete(o.joining, key)
		return nil
	}
	return a
}

// await has what room sends full wait behind a (answers of full's user
// not written yet) if they are written after those it waits behind now:
// full's own message's reflection held behind a is not overtaken by the
// room's next message to full (see order.go).
func (o *occupants) await(room, full string, a *answers) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.rooms[room][full]; !ok {
		return
	}
	key := room + "\x00" + full
	if cur := o.joining[key]; cur != nil && cur != a && later(cur, a) == cur && !cur.isWritten() {
		return
	}
	if o.joining == nil {
		o.joining = map[string]*answers{}
	}
	o.joining[key] = a
}

// setSubject records room's subject, as a join was sent it; it is
// forgotten with the room's last occupant.
func (o *occupants) setSubject(room, subject string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.rooms[room]; !ok {
		return
	}
	if o.subjects == nil {
		o.subjects = map[string]string{}
	}
	o.subjects[room] = subject
}

// subject returns room's subject, if it has occupants.
func (o *occupants) subject(room string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.subjects[room]
}

// leave forgets full in room and returns its nick.
func (o *occupants) leave(room, full string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	nick, ok := o.rooms[room][full]
	if ok {
		delete(o.rooms[room], full)
		delete(o.joining, room+"\x00"+full)
		if len(o.rooms[room]) == 0 {
			delete(o.rooms, room)
			delete(o.subjects, room)
		}
	}
	return nick, ok
}

// nick returns full's nick in room, if it has joined.
func (o *occupants) nick(room, full string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.rooms[room][full]
	return n, ok
}

// seat is a full JID in a room, and its nick.
type seat struct{ full, nick string }

// others returns the occupants of room but full, sorted by full JID.
func (o *occupants) others(room, full string) []seat {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []seat
	for f, n := range o.rooms[room] {
		if f != full {
			out = append(out, seat{f, n})
		}
	}
	slices.SortFunc(out, func(a, b seat) int { return strings.Compare(a.full, b.full) })
	return out
}

// all returns the full JIDs in room, sorted.
func (o *occupants) all(room string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var fulls []string
	for f := range o.rooms[room] {
		fulls = append(fulls, f)
	}
	slices.Sort(fulls)
	return fulls
}

// of returns the full JIDs of user (a bare JID) in room, sorted.
func (o *occupants) of(room, user string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var fulls []string
	for f := range o.rooms[room] {
		if j, err := jid.Parse(f); err == nil && j.Bare().String() == user {
			fulls = append(fulls, f)
		}
	}
	slices.Sort(fulls)
	return fulls
}

// occupantJID is room/nick, or the room itself if nick is not a valid
// resource.
func occupantJID(room jid.JID, nick string) string {
	if nick != "" {
		if j, err := room.WithResource(nick); err == nil {
			return j.String()
		}
	}
	return room.String()
}
