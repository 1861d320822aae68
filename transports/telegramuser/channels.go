package telegramuser

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gotd/td/telegram/query/dialogs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// Channels and supergroups number their updates themselves: each has a pts
// of its own, which the account keeps in the store (keyChannels) and reads
// on from with updates.getChannelDifference. A push about a channel only
// marks it to be read; every catch-up (at start, after a reconnect, and
// every followEvery) also reads each channel whose dialog shows a pts
// beyond the stored one. As with the account's own sequence, a channel's
// pts advances only past updates the core has stored.

// channelLimit is the most updates one getChannelDifference asks for.
const channelLimit = 100

// channelMarks are the channels to read, each with the pts to start from
// if none is stored yet (0: the dialog's, nothing before it relayed).
type channelMarks struct {
	mu  sync.Mutex
	set map[int64]int
}

func (m *channelMarks) mark(id int64, from int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		m.set = map[int64]int{}
	}
	if old, ok := m.set[id]; !ok || (from > 0 && (old == 0 || from < old)) {
		m.set[id] = from
	}
}

func (m *channelMarks) take() map[int64]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.set
	m.set = nil
	return s
}

// markPushed marks the channel a pushed update is about, and reports
// whether it was one.
func (a *account) markPushed(u tg.UpdateClass) bool {
	switch u := u.(type) {
	case *tg.UpdateNewChannelMessage:
		if id, ok := channelOf(u.Message); ok {
			a.marks.mark(id, u.Pts-u.PtsCount)
		}
	case *tg.UpdateEditChannelMessage:
		if id, ok := channelOf(u.Message); ok {
			a.marks.mark(id, u.Pts-u.PtsCount)
		}
	case *tg.UpdateDeleteChannelMessages:
		a.marks.mark(u.ChannelID, u.Pts-u.PtsCount)
	case *tg.UpdateChannelTooLong:
		a.marks.mark(u.ChannelID, 0)
	case *tg.UpdateChannel:
		a.marks.mark(u.ChannelID, 0)
	default:
		return false
	}
	return true
}

// channelOf is the channel a message was posted in.
func channelOf(m tg.MessageClass) (int64, bool) {
	var p tg.PeerClass
	switch m := m.(type) {
	case *tg.Message:
		p = m.PeerID
	case *tg.MessageService:
		p = m.PeerID
	}
	c, ok := p.(*tg.PeerChannel)
	if !ok {
		return 0, false
	}
	return c.ChannelID, true
}

// inputChannel is the InputChannel of a channel's InputPeer.
func inputChannel(p tg.InputPeerClass) (*tg.InputChannel, bool) {
	c, ok := p.(*tg.InputPeerChannel)
	if !ok {
		return nil, false
	}
	return &tg.InputChannel{ChannelID: c.ChannelID, AccessHash: c.AccessHash}, true
}

// channelState is where the account is in a channel: its pts, and the
// highest message id handled (a too-long difference relays only newer
// ones).
type channelState struct{ Pts, Top int }

// channelStates are the stored states of the account's channels.
type channelStates map[int64]channelState

func (a *account) loadChannels(ctx context.Context) (channelStates, error) {
	s, err := a.t.p.State.Get(ctx, keyChannels(a.user))
	if err != nil {
		return nil, err
	}
	st := channelStates{}
	if s != "" {
		var raw map[string]channelState
		if json.Unmarshal([]byte(s), &raw) == nil {
			for k, v := range raw {
				if id, err := strconv.ParseInt(k, 10, 64); err == nil {
					st[id] = v
				}
			}
		}
	}
	return st, nil
}

func (a *account) saveChannels(ctx context.Context, st channelStates) error {
	raw := make(map[string]channelState, len(st))
	for id, c := range st {
		raw[strconv.FormatInt(id, 10)] = c
	}
	b, _ := json.Marshal(raw)
	return a.t.p.State.Set(ctx, keyChannels(a.user), string(b))
}

// startChannels stores the state of each channel without one. A new
// session takes each one's state now, from the last 100 dialogs: it relays
// what happens from now on. A resumed one (after a restart, or a failure)
// leaves them to the follower, which first relays what was posted since
// it last read (readMissed).
func (a *account) startChannels(ctx context.Context) error {
	if a.resume.Load() {
		since, err := a.missedSince(ctx)
		if err != nil {
			return err
		}
		if since > 0 {
			a.missed, a.missedAt = since, time.Time{}
			return nil
		}
	}
	st, err := a.loadChannels(ctx)
	if err != nil {
		return err
	}
	d, err := a.dialogs(ctx)
	if err != nil {
		return err
	}
	changed := false
	for id, c := range d.channels {
		if _, ok := st[id]; !ok {
			st[id], changed = c, true
		}
	}
	if !changed {
		return nil
	}
	return a.saveChannels(ctx, st)
}

// missedSince returns when the account last read before this resume (Unix
// time; 0 if it never did): that of an earlier resume whose missed posts
// are not all relayed yet, else the stored state's, stored as this
// resume's (the follower's reads move the state on before readMissed
// ends).
func (a *account) missedSince(ctx context.Context) (int, error) {
	v, err := a.t.p.State.Get(ctx, keyMissed(a.user))
	if err != nil {
		return 0, err
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return n, nil
	}
	sync, err := a.loadState(ctx)
	if err != nil || sync == nil || sync.Date <= 0 {
		return 0, err
	}
	return sync.Date, a.t.p.State.Set(ctx, keyMissed(a.user), strconv.Itoa(sync.Date))
}

// readMissed relays, once after a resume, the posts made since a.missed
// in channels without a stored state (resumeChannels), and reports
// whether it has just done so. A wait Telegram asks for defers it to
// a.missedAt: the follower reads the rest meanwhile.
func (a *account) readMissed(ctx context.Context) (bool, error) {
	if a.missed == 0 || time.Now().Before(a.missedAt) {
		return false, nil
	}
	err := a.resumeChannels(noFloodWait(ctx), a.missed)
	if d, ok := asWait(err); ok {
		a.t.log.Warn("Telegram asks to wait before reading the channel posts missed while the gateway was down; reading the rest meanwhile", "user", a.user, "wait", d)
		a.missedAt = time.Now().Add(d)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := a.t.p.State.Set(ctx, keyMissed(a.user), ""); err != nil {
		return false, err
	}
	a.missed = 0
	return true, nil
}

// resumeChannels reads the dialogs, page after page (the main list, then
// the archive), back to the last one with a message or a draft since
// since (Unix time: when the account last read its updates; Telegram
// orders dialogs by the later of the two, so the ones after it were quiet
// since), at most maxLookupDialogs. A channel among them without a stored
// state (it was beyond the last 100 dialogs at sign-in, and quiet since)
// has its posts since then relayed, and its state stored: its state now
// would skip them.
func (a *account) resumeChannels(ctx context.Context, since int) error {
	st, err := a.loadChannels(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, folder := range []int{0, 1} {
		q := dialogs.NewQueryBuilder(a.api()).GetDialogs().BatchSize(100)
		if folder != 0 {
			q = q.FolderID(folder)
		}
		it := q.Iter()
		for ; n < maxLookupDialogs && it.Next(ctx); n++ {
			el := it.Value()
			dl, ok := el.Dialog.(*tg.Dialog)
			if !ok {
				continue
			}
			if at, ok := dialogDate(dl, el.Last); ok && !dl.Pinned && at < since {
				break // dialogs are newest first: the rest were quiet since
			}
			p, ok := dl.Peer.(*tg.PeerChannel)
			if !ok || dl.Pts == 0 {
				continue
			}
			if _, known := st[p.ChannelID]; known {
				continue // followChannels reads on from its state
			}
			c, ok := el.Entities.Channel(p.ChannelID)
			if !ok {
				continue
			}
			a.peers.add(nil, []tg.ChatClass{c})
			if _, in := a.peers.channel(c.ID); !in {
				continue
			}
			top, err := a.relaySince(ctx, c, since)
			if err != nil {
				return err
			}
			st[c.ID] = channelState{Pts: dl.Pts, Top: max(top, dl.TopMessage)}
			if err := a.saveChannels(ctx, st); err != nil {
				return err
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// dialogDate is the date Telegram orders an unpinned dialog by: the later
// of its top message's (last) and its draft's. A chat with an old message
// and a newer draft sorts by the draft, above chats with messages since;
// ok is false if neither date is known.
func dialogDate(dl *tg.Dialog, last tg.NotEmptyMessage) (at int, ok bool) {
	if last != nil {
		at, ok = last.GetDate(), true
	}
	var draft int
	switch d := dl.Draft.(type) {
	case *tg.DraftMessage:
		draft = d.Date
	case *tg.DraftMessageEmpty:
		draft, _ = d.GetDate()
	}
	if draft > 0 {
		at, ok = max(at, draft), true
	}
	return at, ok
}

// maxSincePages bounds the pages of a channel's history relaySince reads.
const maxSincePages = 10

// relaySince relays channel c's messages dated since (Unix time) or later,
// oldest first, from its history (at most maxSincePages pages of
// channelLimit), and returns the highest id among them.
func (a *account) relaySince(ctx context.Context, c *tg.Channel, since int) (int, error) {
	in := &tg.InputPeerChannel{ChannelID: c.ID, AccessHash: c.AccessHash}
	var (
		fresh []tg.MessageClass
		users []tg.UserClass
		chats []tg.ChatClass
	)
	offset := 0
	for range maxSincePages {
		res, err := a.api().MessagesGetHistory(ctx, &tg.MessagesGetHistoryRequest{Peer: in, OffsetID: offset, Limit: channelLimit})
		if err != nil {
			return 0, err
		}
		page, ok := res.AsModified()
		if !ok {
			break
		}
		users, chats = append(users, page.GetUsers()...), append(chats, page.GetChats()...)
		msgs := page.GetMessages() // newest first
		older := len(msgs) < channelLimit
		for _, m := range msgs {
			nm, ok := m.AsNotEmpty()
			if !ok {
				continue
			}
			if nm.GetDate() < since {
				older = true
				break
			}
			fresh = append(fresh, m)
			offset = m.GetID()
		}
		if older {
			break
		}
	}
	slices.SortFunc(fresh, func(x, y tg.MessageClass) int { return x.GetID() - y.GetID() }) // oldest first
	if err := a.handle(ctx, fresh, nil, users, chats); err != nil {
		return 0, err
	}
	return topOf(0, fresh), nil
}

// followChannels reads the marked channels and, if all, every channel
// whose dialog is past its stored pts.
func (a *account) followChannels(ctx context.Context, all bool) error {
	todo := a.marks.take()
	if todo == nil {
		todo = map[int64]int{}
	}
	var now map[int64]channelState
	if all {
		d, err := a.dialogs(ctx)
		if err != nil {
			a.requeue(todo)
			return err
		}
		now = d.channels
	}
	st, err := a.loadChannels(ctx)
	if err != nil {
		a.requeue(todo)
		return err
	}
	for id, c := range now {
		if stored, ok := st[id]; !ok || c.Pts > stored.Pts {
			if _, marked := todo[id]; !marked {
				todo[id] = 0
			}
		}
	}
	for id, from := range todo {
		if _, ok := st[id]; !ok && a.missed != 0 {
			// Left to readMissed, which relays its posts since the
			// account last read first: marked for later.
			a.marks.mark(id, from)
			delete(todo, id)
			continue
		}
		if _, ok := st[id]; !ok {
			// New to the account: from the pushed update's pts if one
			// says, else from the channel's state now.
			c, known := now[id]
			if from > 0 {
				c, known = channelState{Pts: from}, true
			}
			if known {
				// Stored at once: a restart before the next change must
				// read on from here, not from the channel's state then.
				st[id] = c
				if err := a.saveChannels(ctx, st); err != nil {
					a.requeue(todo)
					return err
				}
			}
		}
		err := a.readChannel(ctx, id, st)
		if tgerr.Is(err, "CHANNEL_PRIVATE", "CHANNEL_INVALID") {
			// Left, banned, or gone: nothing more to read there.
			a.peers.dropChannel(id)
			delete(st, id)
			err = a.saveChannels(ctx, st)
		}
		if err != nil {
			a.requeue(todo) // this one and those not read yet
			return err
		}
		delete(todo, id)
	}
	return nil
}

// requeue marks again the channels of a read that could not start.
func (a *account) requeue(todo map[int64]int) {
	for id, from := range todo {
		a.marks.mark(id, from)
	}
}

// readChannel reads channel id's difference from its state in st (none
// yet: it starts at the channel's state now) until it is final, storing
// each step's state once the core has the step's messages.
func (a *account) readChannel(ctx context.Context, id int64, st channelStates) error {
	c, ok := a.peers.channel(id)
	if !ok {
		return nil // not one the account is in (yet): the next dialogs tell
	}
	cur, ok := st[id]
	if !ok {
		d, err := a.dialogs(ctx)
		if err != nil {
			return err
		}
		if now, ok := d.channels[id]; ok {
			st[id] = now
			return a.saveChannels(ctx, st)
		}
		return nil
	}
	in := &tg.InputChannel{ChannelID: c.ID, AccessHash: c.AccessHash}
	for {
		diff, err := a.api().UpdatesGetChannelDifference(ctx, &tg.UpdatesGetChannelDifferenceRequest{
			Channel: in, Filter: &tg.ChannelMessagesFilterEmpty{}, Pts: cur.Pts, Limit: channelLimit})
		if err != nil {
			return err
		}
		next, final := cur, true
		switch d := diff.(type) {
		case *tg.UpdatesChannelDifferenceEmpty:
			next.Pts, final = d.Pts, d.Final
		case *tg.UpdatesChannelDifference:
			if err := a.handle(ctx, d.NewMessages, d.OtherUpdates, d.Users, d.Chats); err != nil {
				return err
			}
			next.Pts, next.Top, final = d.Pts, topOf(cur.Top, d.NewMessages), d.Final
		case *tg.UpdatesChannelDifferenceTooLong:
			// Too far behind: Telegram gives the latest messages and the
			// channel's pts now; those past the last one handled are new.
			dl, ok := d.Dialog.(*tg.Dialog)
			if !ok {
				return errors.New("a channel's difference is too long and names no pts")
			}
			var fresh []tg.MessageClass
			for _, m := range d.Messages {
				if m.GetID() > cur.Top {
					fresh = append(fresh, m)
				}
			}
			slices.SortFunc(fresh, func(x, y tg.MessageClass) int { return x.GetID() - y.GetID() }) // oldest first
			if err := a.handle(ctx, fresh, nil, d.Users, d.Chats); err != nil {
				return err
			}
			next = channelState{Pts: dl.Pts, Top: topOf(max(cur.Top, dl.TopMessage), d.Messages)}
		default:
			return errors.New("unexpected channel difference")
		}
		a.t.log.Debug("read a channel's difference", "user", a.user, "channel", id, "from", cur.Pts, "to", next.Pts, "final", final, "kind", diff.TypeName())
		if next != cur {
			st[id] = next
			if err := a.saveChannels(ctx, st); err != nil {
				return err
			}
			cur = next
		}
		if final {
			return nil
		}
	}
}

// topOf is the highest of top and msgs' ids.
func topOf(top int, msgs []tg.MessageClass) int {
	for _, m := range msgs {
		top = max(top, m.GetID())
	}
	return top
}
