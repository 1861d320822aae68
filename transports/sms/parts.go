package sms

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"xmppgw/transports"
)

// maxSMS is the longest body Twilio takes in one message, in characters
// (21617 past it); a longer text is sent as several messages of at most
// maxSMS UTF-16 units each, never more characters than Twilio counts.
const maxSMS = 1600

// smsParts is the text of each message out is sent as: one, or several for
// a body over maxSMS. A body of white space alone over maxSMS has no part
// of text (SplitText leaves white space out): it is one message without a
// body, its attachments alone (Send refuses one without them: Empty).
func smsParts(out transports.Outbound) []string {
	body := smsBody(out)
	if transports.UTF16Len(body) <= maxSMS {
		return []string{body}
	}
	if parts := transports.SplitText(body, maxSMS); len(parts) > 0 {
		return parts
	}
	return []string{""}
}

// partsKept is how long the transport remembers which send a message was a
// part of, and a part's delivery report that came before its send was
// recorded: as long as the core keeps its records of sends (14 days).
const partsKept = 14 * 24 * time.Hour

// progressKept is how long the parts of a job are kept after its last
// failure: longer than the core retries a job (retry_for is at most 168h).
const progressKept = 8 * 24 * time.Hour

// Keys of the transport's state.
func partKey(sid string) string        { return "part/" + sid }        // a part's SID -> the send's id
func pendingKey(sid string) string     { return "pending/" + sid }     // a part's early report
func deliveredKey(whole string) string { return "delivered/" + whole } // the parts delivered

// partMarker is the query of the status callback of each part of a send of
// several messages: a report for one whose send is not recorded yet is kept
// by the transport, not passed on under the part's own SID.
const partMarker = "part=1"

// parts is what the transport keeps of sends of several messages.
type parts struct {
	mu       sync.Mutex           // the progress, and the records of parts and their reports
	progress map[string]sentParts // job id -> the parts sent so far
	sink     transports.Sink      // where kept reports go, once their send is recorded
	mem      map[string]string    // the state, when the transport has none
}

// sentParts are a job's parts sent before one failed for now.
type sentParts struct {
	sids []string
	at   time.Time // when the last one failed
}

// sentSoFar returns the SIDs of job's parts already sent.
func (t *Transport) sentSoFar(job string) []string {
	t.parts.mu.Lock()
	defer t.parts.mu.Unlock()
	return slices.Clone(t.parts.progress[job].sids)
}

// failedPart records, after a part of job failed with err, the parts sent
// before it (sids) for the retry if err is temporary, or forgets them if
// the job will not be retried. It returns err.
func (t *Transport) failedPart(job string, sids []string, err *transports.Error) *transports.Error {
	t.parts.mu.Lock()
	defer t.parts.mu.Unlock()
	if !err.Temporary() {
		delete(t.parts.progress, job)
		return err
	}
	now := t.now()
	for k, p := range t.parts.progress {
		if now.Sub(p.at) > progressKept {
			delete(t.parts.progress, k)
		}
	}
	if len(sids) > 0 {
		t.parts.progress[job] = sentParts{sids: sids, at: now}
	}
	return err
}

// sentAll forgets job's progress: all its parts are sent.
func (t *Transport) sentAll(job string) {
	t.parts.mu.Lock()
	defer t.parts.mu.Unlock()
	delete(t.parts.progress, job)
}

func (t *Transport) get(ctx context.Context, key string) (string, error) {
	if t.state == nil {
		return t.parts.mem[key], nil
	}
	return t.state.Get(ctx, key)
}

func (t *Transport) set(ctx context.Context, key, value string) error {
	if t.state == nil {
		if value == "" {
			delete(t.parts.mem, key)
		} else {
			t.parts.mem[key] = value
		}
		return nil
	}
	return t.state.SetUntil(ctx, key, value, t.now().Add(partsKept))
}

// recordParts remembers that each of sids is a part of the send whole (the
// SIDs joined), so that a delivery report on any part is one on whole, and
// passes on the reports on them that came before. A failure is temporary:
// the job is retried, and the retry records the parts without sending
// them again.
func (t *Transport) recordParts(ctx context.Context, sids []string, whole string) *transports.Error {
	t.parts.mu.Lock()
	var kept []transports.Status
	err := func() error {
		for _, sid := range sids {
			if err := t.set(ctx, partKey(sid), whole); err != nil {
				return err
			}
		}
		for _, sid := range sids {
			v, err := t.get(ctx, pendingKey(sid))
			if err != nil || v == "" {
				if err != nil {
					return err
				}
				continue
			}
			st, ok := decodeStatus(sid, v)
			if ok {
				out, err := t.ofWhole(ctx, whole, st)
				if err != nil {
					return err
				}
				if out != nil {
					kept = append(kept, *out)
				}
			}
			if err := t.set(ctx, pendingKey(sid), ""); err != nil {
				return err
			}
		}
		return nil
	}()
	sink := t.parts.sink
	t.parts.mu.Unlock()
	if err != nil {
		return &transports.Error{Kind: transports.KindUnavailable, Provider: provider,
			Message: "recording the parts of a message sent: " + err.Error()}
	}
	for _, st := range kept {
		if sink == nil {
			break
		}
		if err := sink.Report(ctx, st); err != nil {
			t.log.Warn("sms: a delivery report kept for a part could not be passed on", "provider_id", st.RemoteID, "err", err)
		}
	}
	return nil
}

// partReport turns st, a delivery report on the message sid, into the
// report to pass on, if any: a message sent alone is its own; a part of a
// send of several is reported on the send's id (see ofWhole). marked says
// the report's callback was a part's (partMarker): if its send is not
// recorded yet, the report is kept until it is (recordParts).
func (t *Transport) partReport(ctx context.Context, st transports.Status, marked bool) (*transports.Status, error) {
	if !marked {
		// Sent alone (or before this version): one lookup would do, but
		// most reports are on single messages, which need none.
		return &st, nil
	}
	t.parts.mu.Lock()
	defer t.parts.mu.Unlock()
	whole, err := t.get(ctx, partKey(st.RemoteID))
	if err != nil {
		return nil, err
	}
	if whole == "" {
		// Twilio can report before its API answers the send, and its
		// reports come in any order: a "sent" after "delivered" or
		// "failed" is not kept over it.
		if !final(st.State) {
			v, err := t.get(ctx, pendingKey(st.RemoteID))
			if err != nil {
				return nil, err
			}
			if kept, ok := decodeStatus(st.RemoteID, v); ok && final(kept.State) {
				return nil, nil
			}
		}
		return nil, t.set(ctx, pendingKey(st.RemoteID), encodeStatus(st))
	}
	return t.ofWhole(ctx, whole, st)
}

// final reports whether a part in state s will not change state again.
func final(s transports.State) bool {
	return s == transports.StateDelivered || s == transports.StateFailed
}

// ofWhole is st, on a part of the send whole, as a report on whole, or nil
// while there is nothing to report: the send is delivered once all its
// parts are, and failed as soon as one fails.
func (t *Transport) ofWhole(ctx context.Context, whole string, st transports.Status) (*transports.Status, error) {
	part := st.RemoteID
	st.RemoteID = whole
	if st.State != transports.StateDelivered {
		return &st, nil
	}
	v, err := t.get(ctx, deliveredKey(whole))
	if err != nil {
		return nil, err
	}
	done := strings.Split(v, ",")
	if v == "" {
		done = nil
	}
	if !slices.Contains(done, part) {
		done = append(done, part)
	}
	for _, sid := range strings.Split(whole, ",") {
		if !slices.Contains(done, sid) {
			return nil, t.set(ctx, deliveredKey(whole), strings.Join(done, ","))
		}
	}
	return &st, nil
}

// encodeStatus and decodeStatus keep a report in the state.
func encodeStatus(st transports.Status) string {
	return string(st.State) + "|" + st.Code + "|" + st.Text
}

func decodeStatus(sid, v string) (transports.Status, bool) {
	f := strings.SplitN(v, "|", 3)
	if len(f) != 3 {
		return transports.Status{}, false
	}
	return transports.Status{RemoteID: sid, State: transports.State(f[0]), Code: f[1], Text: f[2]}, true
}

// matchParts finds, among messages (oldest first) with their SIDs and
// bodies, the sends of parts in order: each run of messages whose bodies
// are parts[0], parts[1]... in turn. It returns the complete ones, and the
// SIDs of an incomplete one at the end (a send cut short), if any.
func matchParts(sids, bodies []string, parts []string) (complete [][]string, partial []string) {
	var cur []string
	for i, body := range bodies {
		switch {
		case body == parts[len(cur)]:
			cur = append(cur, sids[i])
		case body == parts[0]:
			cur = []string{sids[i]}
		default:
			continue
		}
		if len(cur) == len(parts) {
			complete = append(complete, cur)
			cur = nil
		}
	}
	return complete, cur
}
