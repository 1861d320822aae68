package botfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// failure is an error injected with Fail.
type failure struct {
	left int
	err  apiError
}

// rateLimited are the methods SetRateLimit throttles.
var rateLimited = map[string]bool{"sendmessage": true, "editmessagetext": true, "editmessagecaption": true, "sendchataction": true}

// Kick makes the bot "removed" from a chat: from now on sendMessage,
// editMessageText, editMessageCaption, deleteMessage and sendChatAction to
// it answer 403 with description, e.g. "Forbidden: bot was kicked from the
// group chat" or "Forbidden: bot was blocked by the user". An empty
// description picks one of these by the chat's type. Unkick undoes it.
func (f *Fake) Kick(chatID int64, description string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if description == "" {
		description = "Forbidden: bot was kicked from the group chat"
		switch normalizeChat(Chat{ID: chatID}).Type {
		case "private":
			description = "Forbidden: bot was blocked by the user"
		case "supergroup":
			description = "Forbidden: bot was kicked from the supergroup chat"
		}
	}
	f.kicked[chatID] = description
	f.notifyLocked()
}

// Unkick lets the bot write to a chat again after Kick.
func (f *Fake) Unkick(chatID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.kicked, chatID)
	f.notifyLocked()
}

// Migrate upgrades group chat oldID to supergroup newID: from now on every
// call naming oldID answers 400 "Bad Request: group chat was upgraded to a
// supergroup chat" with parameters.migrate_to_chat_id newID. The
// supergroup becomes known, with the group's title.
func (f *Fake) Migrate(oldID, newID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := Chat{ID: newID, Type: "supergroup"}
	if old := f.chats[oldID]; old != nil {
		c.Title = old.chat.Title
	}
	f.chatLocked(c)
	f.migrated[oldID] = newID
	f.notifyLocked()
}

// Fail makes the next n calls of method (any case) answer an error with
// HTTP status and error_code status. retryAfter > 0 adds
// parameters.retry_after. An empty description is filled in from the
// status, e.g. "Too Many Requests: retry after 3" for 429. Failures
// queue up behind earlier ones for the same method.
func (f *Fake) Fail(method string, n int, status int, description string, retryAfter int) {
	if n <= 0 {
		return
	}
	if description == "" {
		switch status {
		case http.StatusBadRequest:
			description = "Bad Request"
		case http.StatusTooManyRequests:
			description = "Too Many Requests: retry after " + strconv.Itoa(retryAfter)
		default:
			description = http.StatusText(status)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := strings.ToLower(method)
	f.fails[name] = append(f.fails[name], failure{left: n,
		err: apiError{Code: status, Description: description, RetryAfter: max(retryAfter, 0)}})
}

// faultLocked returns the injected error or rate limit for a call of
// method, if any, and uses it up.
func (f *Fake) faultLocked(method string) *apiError {
	if q := f.fails[method]; len(q) > 0 {
		e := q[0].err
		if q[0].left--; q[0].left == 0 {
			f.fails[method] = q[1:]
		}
		return &e
	}
	if f.limiter != nil && rateLimited[method] && !f.limiter.take(time.Now()) {
		return tooManyRequests(1)
	}
	return nil
}

// SetRateLimit throttles sendMessage, editMessageText, editMessageCaption
// and sendChatAction together to perSecond calls (a token bucket holding one call); calls
// over the rate answer 429 with retry_after 1. 0 turns it off.
func (f *Fake) SetRateLimit(perSecond float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limiter = nil
	if perSecond > 0 {
		f.limiter = &bucket{rate: perSecond, tokens: 1, last: time.Now()}
	}
}

// Count429 returns how many calls were answered 429, from SetRateLimit or
// Fail.
func (f *Fake) Count429() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n429
}

// bucket is a token bucket with a burst of one.
type bucket struct {
	rate   float64 // tokens per second
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time) bool {
	b.tokens = min(1, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
