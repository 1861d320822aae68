package component

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"xmppgw/mapping"
)

// writeLoop writes stored stanzas to the server in order, waiting while the
// component is disconnected. A batch leaves the store only once the server
// has routed it (see barrier), so none is lost when the server or the
// connection goes away mid-batch. If the process dies between the server's
// answer and the commit, the batch is written again after the restart, with
// the same stanza ids.
func (g *Gateway) writeLoop(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := g.o.Store.Outgoing(ctx, g.name, 256)
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error("reading the XMPP queue failed", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-g.wakeIn:
			}
			continue
		}
		s, err := g.o.Link.Session(ctx)
		if err != nil {
			return
		}
		// A batch is finished even if shutdown begins meanwhile.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), barrierTimeout)
		err = writeBatch(s, batch)
		if err == nil && g.o.Metrics != nil {
			for _, q := range batch {
				if start, ok := g.inClock.take(q.ID); ok {
					g.observe("in", start)
				}
			}
		}
		if err == nil {
			err = g.barrier(bctx, s)
		}
		cancel()
		if err == nil {
			last := batch[len(batch)-1].ID
			g.persist(ctx, func(c context.Context) error { return g.o.Store.Written(c, g.name, last) })
		}
		if err != nil && ctx.Err() == nil {
			g.log.Warn("writing to the server failed; will resend after reconnect", "err", err)
			sleep(ctx, 200*time.Millisecond)
		}
	}
}

// writeBatch writes stanzas to the session with one flush.
func writeBatch(s *xmpp.Session, batch []mapping.Queued) error {
	w := s.TokenWriter()
	defer w.Close()
	for _, q := range batch {
		if _, err := xmlstream.Copy(w, newRawReader(q.Stanza)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// barrierTimeout bounds the wait for the server to route a batch.
const barrierTimeout = 30 * time.Second

var barrierSeq atomic.Int64

// barrier returns once the server has processed everything written before
// it: it sends a ping from the component to itself, which the server routes
// back only after the stanzas ahead of it on the stream. XEP-0114 has no
// acknowledgements of its own.
func (g *Gateway) barrier(ctx context.Context, s *xmpp.Session) error {
	ctx, cancel := context.WithTimeout(ctx, barrierTimeout)
	defer cancel()
	d := g.domain.String()
	id := "barrier-" + strconv.FormatInt(barrierSeq.Add(1), 10)
	r, err := s.SendIQ(ctx, newRawReader(render(iq{Type: "get", ID: id, From: d, To: d, Payload: pingQuery{}})))
	if err != nil {
		return fmt.Errorf("waiting for the server to route a batch: %w", err)
	}
	defer r.Close()
	var res struct {
		Type string `xml:"type,attr"`
	}
	if err := xml.NewTokenDecoder(r).Decode(&res); err != nil {
		return fmt.Errorf("the server's answer to a batch: %w", err)
	}
	if res.Type != "result" {
		return fmt.Errorf("the server answered a batch with an iq of type %q", res.Type)
	}
	return nil
}

type pingQuery struct {
	XMLName xml.Name `xml:"urn:xmpp:ping ping"`
}
