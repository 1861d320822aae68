package telegram

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// typingEvery is how often "typing" may be sent to one chat; Telegram shows
// it for about 5 seconds.
const typingEvery = 4 * time.Second

// pacer keeps sends within Telegram's limits: per chat, per group and in
// total. Waiting is in order per chat, since each chat has one sender lane.
type pacer struct {
	total     *rate.Limiter
	chatRate  rate.Limit
	groupRate rate.Limit
	groupMax  int

	mu     sync.Mutex
	chats  map[int64]*chatPace
	typing lastDone
}

type chatPace struct {
	chat  *rate.Limiter
	group *rate.Limiter // nil for one-to-one chats
}

// margin keeps the pace a little under each limit, so that requests
// bunched up by network jitter still arrive within it.
const margin = 0.97

func newPacer(l RateLimits) *pacer {
	return &pacer{
		total:     rate.NewLimiter(rate.Limit(l.TotalPerSecond*margin), max(1, int(l.TotalPerSecond))),
		chatRate:  rate.Limit(l.ChatPerSecond * margin),
		groupRate: rate.Limit(l.GroupPerMinute * margin / 60),
		groupMax:  max(1, int(l.GroupPerMinute)),
		chats:     map[int64]*chatPace{},
		typing:    lastDone{},
	}
}

// wait blocks until a message may be sent to chat, or ctx ends.
func (p *pacer) wait(ctx context.Context, chat int64) error {
	c := p.chatPace(chat)
	if err := c.chat.Wait(ctx); err != nil {
		return err
	}
	if c.group != nil {
		if err := c.group.Wait(ctx); err != nil {
			return err
		}
	}
	return p.total.Wait(ctx)
}

// allowTyping reports whether a typing action may be sent to chat now.
func (p *pacer) allowTyping(chat int64) bool {
	p.mu.Lock()
	due := p.typing.due(chat, time.Now(), typingEvery)
	p.mu.Unlock()
	return due && p.total.Allow()
}

func (p *pacer) chatPace(chat int64) *chatPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chats[chat]
	if c == nil {
		if len(p.chats) > 10000 {
			p.forgetIdle()
		}
		c = &chatPace{chat: rate.NewLimiter(p.chatRate, 1)}
		if isGroup(chat) {
			c.group = rate.NewLimiter(p.groupRate, p.groupMax)
		}
		p.chats[chat] = c
	}
	return c
}

// forgetIdle drops limiters that are full again: they would allow at once
// what a new limiter allows.
func (p *pacer) forgetIdle() {
	for id, c := range p.chats {
		if c.chat.Tokens() >= 1 && (c.group == nil || c.group.Tokens() >= float64(p.groupMax)) {
			delete(p.chats, id)
		}
	}
}
