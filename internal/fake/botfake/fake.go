package botfake

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults of the configurable fields of Fake.
const (
	DefaultBotID              = 7000001
	DefaultWebhookBackoff     = 200 * time.Millisecond
	DefaultWebhookMaxAttempts = 50
	DefaultWebhookTimeout     = 10 * time.Second
)

// Fake is a fake Telegram Bot API for one bot. Create it with New; all its
// methods are safe for concurrent use.
type Fake struct {
	// BotUser is the bot's identity: what getMe answers and the "from" of
	// every message the bot sends. Change it before the fake serves its
	// first request.
	BotUser User
	// WebhookBackoff is the pause before a failed webhook delivery is
	// retried, WebhookMaxAttempts how often one update is tried before it
	// is dropped, and WebhookTimeout how long one POST may take. Change
	// them before setWebhook is called.
	WebhookBackoff     time.Duration
	WebhookMaxAttempts int
	WebhookTimeout     time.Duration

	token  string
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // webhook deliverers
	once   sync.Once

	mu      sync.Mutex
	closed  bool
	srv     *httptest.Server
	changed chan struct{} // closed and replaced on every change

	chats        map[int64]*chatState
	sent         []*Message
	edits        []Edit
	captionEdits []Edit // editMessageCaption calls
	mediaEdits   []Edit // editMessageMedia calls
	deleted      []Deleted
	reacted      []Reaction     // setMessageReaction calls
	avatars      map[int64]File // user id -> profile photo (SetProfilePhoto)
	actions      []Action
	calls        map[string]int
	offsets      []int

	queue        []queuedUpdate
	nextUpdateID int
	allowed      map[string]bool // nil: Telegram's default set
	pollSeq      int             // bumped by every getUpdates call

	files    map[string]*storedFile // by file_id
	paths    map[string]*storedFile // by file_path
	nextFile int

	hook     webhookState
	attempts []WebhookAttempt
	dropped  []int

	kicked   map[int64]string // chat ID -> 403 description
	migrated map[int64]int64  // group ID -> supergroup ID
	fails    map[string][]failure
	limiter  *bucket
	n429     int
}

// chatState is a known chat and the messages in it.
type chatState struct {
	chat    Chat
	lastID  int                  // last message_id used in the chat
	msgs    map[int]*Message     // not deleted, by message_id
	members map[int64]ChatMember // by user id: who wrote in the chat or SetMemberStatus named
}

// New returns a fake for the bot with the given token. It is not listening
// yet: call Start, or serve Handler yourself.
func New(token string) *Fake {
	ctx, cancel := context.WithCancel(context.Background())
	return &Fake{
		BotUser: User{
			ID:        DefaultBotID,
			IsBot:     true,
			FirstName: "xmppgw test bot",
			Username:  "xmppgw_test_bot",
		},
		WebhookBackoff:     DefaultWebhookBackoff,
		WebhookMaxAttempts: DefaultWebhookMaxAttempts,
		WebhookTimeout:     DefaultWebhookTimeout,

		token:        token,
		ctx:          ctx,
		cancel:       cancel,
		changed:      make(chan struct{}),
		chats:        map[int64]*chatState{},
		calls:        map[string]int{},
		nextUpdateID: 1,
		files:        map[string]*storedFile{},
		paths:        map[string]*storedFile{},
		kicked:       map[int64]string{},
		migrated:     map[int64]int64{},
		fails:        map[string][]failure{},
	}
}

// Start serves the fake on a fresh port of 127.0.0.1 and returns its base
// URL without a trailing slash; the real client wants
// baseURL+"/bot%s/%s" as its endpoint. Calling Start again returns the
// same URL.
func (f *Fake) Start() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv == nil {
		srv := httptest.NewUnstartedServer(f.Handler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Start()
		f.srv = srv
	}
	return f.srv.URL
}

// Close stops the server, ends pending long polls and stops webhook
// delivery. It is safe to call more than once.
func (f *Fake) Close() {
	f.once.Do(func() {
		f.mu.Lock()
		f.closed = true
		srv := f.srv
		f.notifyLocked()
		f.mu.Unlock()
		f.cancel() // long polls and webhook deliveries return
		if srv != nil {
			srv.Close()
		}
		f.wg.Wait()
	})
}

// Token returns the bot token the fake accepts.
func (f *Fake) Token() string { return f.token }

// Bot returns the bot's identity.
func (f *Fake) Bot() User { return f.bot() }

func (f *Fake) bot() User {
	u := f.BotUser
	u.IsBot = true
	return u
}

// notifyLocked wakes everyone waiting for a change. f.mu must be held.
func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// AddChat makes a chat known, or updates what is known about it.
func (f *Fake) AddChat(c Chat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chatLocked(c)
	f.notifyLocked()
}

// chatLocked returns the state of c, registering c if it is new and
// filling in fields that were empty.
func (f *Fake) chatLocked(c Chat) *chatState {
	c = normalizeChat(c)
	cs := f.chats[c.ID]
	if cs == nil {
		cs = &chatState{chat: c, msgs: map[int]*Message{}, members: map[int64]ChatMember{}}
		f.chats[c.ID] = cs
		return cs
	}
	merge := func(dst *string, src string) {
		if src != "" {
			*dst = src
		}
	}
	merge(&cs.chat.Type, c.Type)
	merge(&cs.chat.Title, c.Title)
	merge(&cs.chat.Username, c.Username)
	merge(&cs.chat.FirstName, c.FirstName)
	merge(&cs.chat.LastName, c.LastName)
	return cs
}

// normalizeChat fills in a missing type from the shape of the ID.
func normalizeChat(c Chat) Chat {
	if c.Type == "" {
		switch {
		case c.ID > 0:
			c.Type = "private"
		case c.ID <= -1000000000000:
			c.Type = "supergroup"
		default:
			c.Type = "group"
		}
	}
	return c
}

// Sent returns the messages the bot sent, oldest first, with edits applied
// (deleted ones included).
func (f *Fake) Sent() []Message { return f.sentWhere(func(*Message) bool { return true }) }

// SentTo returns the messages the bot sent to one chat, like Sent.
func (f *Fake) SentTo(chatID int64) []Message {
	return f.sentWhere(func(m *Message) bool { return m.Chat.ID == chatID })
}

func (f *Fake) sentWhere(keep func(*Message) bool) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.sent {
		if keep(m) {
			out = append(out, m.clone())
		}
	}
	return out
}

// Edits returns every successful editMessageText call, oldest first.
func (f *Fake) Edits() []Edit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Edit(nil), f.edits...)
}

// Deleted returns every successful deleteMessage call, oldest first.
func (f *Fake) Deleted() []Deleted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Deleted(nil), f.deleted...)
}

// Actions returns every successful sendChatAction call, oldest first.
func (f *Fake) Actions() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Action(nil), f.actions...)
}

// Calls returns how many requests of a method (matched case-insensitively)
// arrived with the right token, failed ones included.
func (f *Fake) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[strings.ToLower(method)]
}

// Offsets returns the offset parameter of each getUpdates call that
// reached the method (0 where it was absent), in order.
func (f *Fake) Offsets() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.offsets...)
}

// WaitFor calls cond now and after every change in the fake until it
// returns true or ctx is done. cond is called without the fake's lock held,
// so it may call the fake's methods.
func (f *Fake) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("botfake: condition not met: %w", ctx.Err())
		}
	}
}

// WaitSent waits until the bot has sent at least n messages and returns
// all it sent. If ctx ends first, the error says how many there were.
func (f *Fake) WaitSent(ctx context.Context, n int) ([]Message, error) {
	var got []Message
	err := f.WaitFor(ctx, func() bool {
		got = f.Sent()
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("botfake: bot sent %d message(s), want %d: %w", len(got), n, ctx.Err())
	}
	return got, nil
}
