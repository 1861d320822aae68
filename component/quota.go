package component

import (
	"context"
	"sync"
	"time"
)

// quota caps the messages one user may send in any hour (a transport's
// transports.Quota). It is seeded from the store at start, so a restart does
// not reset it.
type quota struct {
	limit int
	mu    sync.Mutex
	sent  map[string][]time.Time // bare JID -> send times within the last hour, oldest first
}

func newQuota(limit int) *quota {
	return &quota{limit: limit, sent: map[string][]time.Time{}}
}

// allows reports whether user may send one more message at now.
func (q *quota) allows(user string, now time.Time) bool {
	return q.allowsN(user, now, 1)
}

// allowsN reports whether user may send n more messages at now.
func (q *quota) allowsN(user string, now time.Time, n int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.trim(user, now))+n <= q.limit
}

// add counts one message of user at now.
func (q *quota) add(user string, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent[user] = append(q.trim(user, at), at)
}

// trim forgets user's sends older than an hour before now.
func (q *quota) trim(user string, now time.Time) []time.Time {
	times := q.sent[user]
	i := 0
	for i < len(times) && now.Sub(times[i]) >= time.Hour {
		i++
	}
	times = times[i:]
	if len(times) == 0 {
		delete(q.sent, user)
	} else {
		q.sent[user] = times
	}
	return times
}

// seed loads the last hour's messages from the store.
func (g *Gateway) seedQuota(ctx context.Context) error {
	since := time.Now().Add(-time.Hour)
	sends, err := g.o.Store.Jobs().SendsSince(ctx, g.name, since)
	if err != nil {
		return err
	}
	for _, s := range sends {
		g.quota.add(s.User, s.At)
	}
	return nil
}
