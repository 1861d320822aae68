package tguserfake

import (
	"math/big"
	"time"
)

// User is an account on the fake server.
type User struct {
	ID         int64  // assigned from 1000001 upward if 0
	AccessHash int64  // assigned if 0
	Phone      string // digits with leading "+", e.g. "+15550001111"
	FirstName  string
	LastName   string
	Username   string
	Password   string // 2FA cloud password; "" = none
	Photo      []byte // JPEG profile photo, optional
}

// Peer is a chat as seen by one user: a private chat with User, the basic
// group Chat, or the broadcast channel or supergroup Channel. Exactly one
// is set.
type Peer struct{ User, Chat, Channel int64 }

// Message is a message as the fake stores it.
type Message struct {
	ID        int   // in a channel, the channel's own id sequence
	From      int64 // author user id (also for a broadcast channel's posts)
	Peer      Peer  // where it was posted: for a private chat, the OTHER side as seen by From
	Text      string
	ReplyTo   int
	Edited    bool
	Deleted   bool
	Reactions map[int64][]string // by user id: emoticons
	Media     *File
	Date      time.Time
}

// File is a photo or document attached to a message.
type File struct {
	Name, MIME string
	Data       []byte
}

// account is a user with everything the server keeps for them.
type account struct {
	User
	photo    *media // profile photo, nil if none
	online   bool
	lastSeen time.Time

	contacts map[int64]bool
	// srp is the verifier for Password; nil if there is none.
	srp *srpAccount

	// Update log: pts is the pts after the last entry.
	pts  int
	log  []entry
	hold bool

	readInbox  map[Peer]int // highest id read in each dialog
	lastRead   map[Peer]int // max_id of the last messages.readHistory
	typingSeen map[Peer]int
	randomIDs  map[int64]int // random_id of sendMessage/sendMedia → message id
}

// chat is a basic group.
type chat struct {
	id      int64
	title   string
	members []int64
	date    time.Time
}

func (c *chat) has(user int64) bool {
	for _, m := range c.members {
		if m == user {
			return true
		}
	}
	return false
}

// message is a stored message; one object serves every box it is in.
type message struct {
	id       int // global, or the channel's own for a channel message
	seq      int // order of posting among all messages, channels included
	from     int64
	to       Peer // as seen by from
	text     string
	replyTo  int
	date     time.Time
	editDate time.Time
	media    *media

	owners    []int64        // users whose boxes hold it
	hidden    map[int64]bool // deleted for these owners only
	deleted   bool           // deleted for everyone
	reactions map[int64][]string
	reactedAt map[int64]time.Time

	// viaAPI: sent by one of from's sessions (reported by Sent).
	viaAPI    bool
	randomID  int64
	senderPts int // from's pts for its UpdateNewMessage (the channel's pts in a channel)
}

// visibleTo reports whether the message is in user's box.
func (m *message) visibleTo(user int64) bool {
	if m.deleted || m.hidden[user] {
		return false
	}
	for _, o := range m.owners {
		if o == user {
			return true
		}
	}
	return false
}

// peerFor is the dialog the message belongs to in viewer's box.
func (m *message) peerFor(viewer int64) Peer {
	if m.to.Chat != 0 || m.to.Channel != 0 {
		return m.to
	}
	if viewer == m.from {
		return m.to
	}
	return Peer{User: m.from}
}

// media is an uploaded photo or document.
type media struct {
	id, accessHash int64
	fileRef        []byte
	photo          bool
	name, mime     string
	data           []byte
	date           time.Time
	w, h           int
}

// channel is a broadcast channel or a supergroup (megagroup): its own
// message ids, pts and update log.
type channel struct {
	id, accessHash int64
	title          string
	megagroup      bool
	creator        int64
	members        []int64 // the creator first
	date           time.Time

	msgs      []*message // by id-1
	pts       int        // pts after the last entry of log
	log       []entry    // entryNewMessage, entryEditMessage, entryDeleteMessages
	randomIDs map[sentKey]int
	tooLong   bool // the next updates.getChannelDifference answers TooLong
}

// sentKey is a random_id one user sent in a channel.
type sentKey struct{ user, randomID int64 }

// has reports whether user is a member of ch.
func (ch *channel) has(user int64) bool {
	for _, m := range ch.members {
		if m == user {
			return true
		}
	}
	return false
}

// message is the channel message id, nil if none.
func (ch *channel) message(id int) *message {
	if id < 1 || id > len(ch.msgs) {
		return nil
	}
	return ch.msgs[id-1]
}

// entryKind is the kind of a pts update in a user's or a channel's log.
type entryKind int

const (
	entryNewMessage entryKind = iota + 1
	entryEditMessage
	entryDeleteMessages
	entryReadInbox
	entryReadOutbox
)

// entry is one pts update in a user's or a channel's log. It is rendered
// to a fresh tg object every time it is sent (gotd mutates objects while
// encoding).
type entry struct {
	kind     entryKind
	pts      int // pts after this entry
	ptsCount int
	date     time.Time
	msgID    int   // new/edit
	ids      []int // delete
	peer     Peer  // read
	maxID    int   // read
	unread   int   // read inbox: still unread
}

// srpAccount is what the server keeps to check a cloud password.
type srpAccount struct {
	salt1, salt2 []byte
	v            *big.Int
	// Current challenge of account.getPassword.
	id int64
	b  *big.Int
	gb []byte
}
