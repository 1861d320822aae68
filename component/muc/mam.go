package muc

import (
	"context"
	"encoding/xml"
	"slices"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/mapping"
)

// mamName is an XEP-0313 query's element.
var mamName = xml.Name{Space: stanza.NSMAM, Local: "query"}

// mamPage is the most results one query gets unless it asks for fewer.
const mamPage = 50

// mamQuery is what an XEP-0313 query may say: its id, and which page of
// the archive (XEP-0059: at most Max, after or before an id; an empty
// before is the last page). Filters (a data form) are not supported: the
// archive is the room's, newest last.
type mamQuery struct {
	QueryID string `xml:"queryid,attr"`
	Set     *struct {
		Max    *int    `xml:"max"`
		After  *string `xml:"after"`
		Before *string `xml:"before"`
	} `xml:"http://jabber.org/protocol/rsm set"`
}

// mam answers an XEP-0313 query to a room from one who may join it: its
// kept history, a page of it, each message forwarded in a result, then the
// page's bounds.
func (r *rooms) mam(ctx context.Context, w router.Writer, s *router.Stanza) error {
	room, err := r.roomJID(s.To)
	if err != nil {
		return err
	}
	bare := s.From.Bare().String()
	if !r.c.Allowed(bare) {
		return stanza.NewError("auth", "forbidden", bare+" may not use this gateway")
	}
	var q mamQuery
	if _, err := s.DecodeChild(mamName, &q); err != nil {
		return err
	}
	if r.admitsOnline(room) {
		return r.c.Later(s.From, w, func(ctx context.Context, w router.Writer) {
			if err := r.answerMAM(ctx, w, s, room, bare, q); err != nil {
				w.Encode(router.Refusal(s, router.ErrorFor(err)))
			}
		})
	}
	return r.answerMAM(ctx, w, s, room, bare, q)
}

// answerMAM is mam for query q of bare (s's sender) to room, once allowed.
func (r *rooms) answerMAM(ctx context.Context, w router.Writer, s *router.Stanza, room jid.JID, bare string, q mamQuery) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	key, _, _, err := r.admit(ctx, room, bare)
	if err != nil {
		return err
	}
	keep := inboxHistory
	if _, ok := r.c.Inbox(room.Localpart()); !ok {
		keep = r.tr.RoomHistory()
	}
	all, err := r.c.Store().Rooms().RoomHistory(ctx, r.c.Name(), key, keep)
	if err != nil {
		return core.StoreError(err)
	}
	page, complete, err := q.page(all)
	if err != nil {
		return err
	}
	fin := stanza.MAMFin{Complete: complete, Set: stanza.RSMSet{Count: len(all)}}
	for _, e := range page {
		m := stanza.MAMResult{From: room.String(), To: s.From.String()}
		m.Result.QueryID, m.Result.ID = q.QueryID, e.StanzaID
		m.Result.Forwarded.Delay = stanza.Delay{Stamp: time.UnixMilli(e.Created).UTC().Format("2006-01-02T15:04:05.000Z")}
		msg := stanza.Message{Type: "groupchat", ID: e.StanzaID, From: occupantJID(room, e.Sender), To: room.String(), Body: e.Body}
		if e.OOB != "" {
			msg.OOB = &stanza.OOB{URL: e.OOB}
		}
		if e.Replaces != "" {
			msg.Replace = &stanza.Replace{ID: e.Replaces}
		}
		m.Result.Forwarded.Message = stanza.ForwardedMessage(msg)
		w.Encode(m)
	}
	if len(page) > 0 {
		fin.Set.First, fin.Set.Last = page[0].StanzaID, page[len(page)-1].StanzaID
	}
	router.Result(w, s, fin)
	return nil
}

// page is q's page of all (oldest first), and whether it reaches the end
// of the archive in the direction asked (XEP-0313's complete). An id the
// archive does not hold is item-not-found.
func (q mamQuery) page(all []mapping.RoomEntry) ([]mapping.RoomEntry, bool, error) {
	max := mamPage
	if q.Set != nil && q.Set.Max != nil {
		max = min(max, *q.Set.Max)
	}
	max = max0(max)
	at := func(id string) (int, error) {
		i := slices.IndexFunc(all, func(e mapping.RoomEntry) bool { return e.StanzaID == id })
		if i < 0 {
			return 0, stanza.NewError("cancel", "item-not-found", "the archive holds no message "+id)
		}
		return i, nil
	}
	switch {
	case q.Set != nil && q.Set.Before != nil:
		end := len(all)
		if *q.Set.Before != "" {
			i, err := at(*q.Set.Before)
			if err != nil {
				return nil, false, err
			}
			end = i
		}
		start := max0(end - max)
		return all[start:end], start == 0, nil
	case q.Set != nil && q.Set.After != nil:
		i, err := at(*q.Set.After)
		if err != nil {
			return nil, false, err
		}
		end := min(len(all), i+1+max)
		return all[i+1 : end], end == len(all), nil
	}
	end := min(len(all), max)
	return all[:end], end == len(all), nil
}

func max0(n int) int { return max(n, 0) }
