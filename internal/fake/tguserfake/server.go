package tguserfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tgtest/services"
	"github.com/gotd/td/transport"
)

// dcID is the only data center the fake runs.
const dcID = 2

// readTimeout is how long a connection may stay silent before the server
// drops it; gotd clients ping every minute.
const readTimeout = 5 * time.Minute

// Server is a running fake. All its methods are safe for concurrent use.
type Server struct {
	log  *slog.Logger
	key  *rsa.PrivateKey
	srv  *tgtest.Server
	ln   *listener
	addr string
	ip   string
	port int

	ctx    context.Context
	cancel context.CancelFunc
	served chan struct{}

	rpcs  map[uint32]rpcFunc
	names map[uint32]string

	// pushMu orders state changes with the pushes they cause, so every
	// session sees its updates in pts order.
	pushMu sync.Mutex

	mu         sync.Mutex
	users      map[int64]*account
	byPhone    map[string]int64
	nextUserID int64
	chats      map[int64]*chat
	nextChatID int64
	channels   map[int64]*channel
	nextChanID int64
	msgs       []*message // by id-1
	posted     int        // messages posted, channels included (message.seq)
	media      map[int64]*media
	nextMedia  int64
	codes      map[string]*loginCode // by normalized phone
	lastCodes  map[string]string
	keys       map[[8]byte]*keyState
	sessions   map[int64]*mtSession
	seen       uint64
	uploads    map[uploadKey]*upload
	flood      map[uint32]*floodRule
	fails      map[uint32]*tgerr.Error  // Fail: methods that fail until cleared
	failsAfter map[uint32]*failAfter    // FailAfter: methods that fail after some calls, until cleared
	holds      map[uint32]chan struct{} // HoldCalls: methods that wait for release
	held       map[uint32]int           // Held: calls waiting
	calls      int                      // Calls
	callsOf    map[uint32]int           // CallsOf
}

// keyState is what the server knows about one auth key.
type keyState struct {
	user    int64 // authorized user, 0 if none
	pending int64 // user that passed auth.signIn and still owes a password
}

// mtSession is one MTProto session (one client connection) seen by the server.
type mtSession struct {
	s         tgtest.Session
	key       [8]byte
	seen      uint64 // order of the last request
	noUpdates bool
}

// Start runs one DC (id 2) on addr ("127.0.0.1:0" for a random port) until
// Close. Only loopback addresses are accepted.
func Start(ctx context.Context, addr string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tguserfake: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return nil, fmt.Errorf("tguserfake: address %q: only IPv4 loopback (127.0.0.1) is served", addr)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("tguserfake: generate RSA key: %w", err)
	}
	var lc net.ListenConfig
	raw, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("tguserfake: listen: %w", err)
	}

	s := &Server{
		log:        log,
		key:        key,
		ln:         newListener(raw),
		addr:       raw.Addr().String(),
		ip:         raw.Addr().(*net.TCPAddr).IP.String(),
		port:       raw.Addr().(*net.TCPAddr).Port,
		served:     make(chan struct{}),
		names:      tg.TypesMap(),
		users:      map[int64]*account{},
		byPhone:    map[string]int64{},
		nextUserID: 1000001,
		chats:      map[int64]*chat{},
		nextChatID: 5000001,
		channels:   map[int64]*channel{},
		nextChanID: 1500000001,
		media:      map[int64]*media{},
		nextMedia:  7000000001,
		codes:      map[string]*loginCode{},
		lastCodes:  map[string]string{},
		keys:       map[[8]byte]*keyState{},
		sessions:   map[int64]*mtSession{},
		uploads:    map[uploadKey]*upload{},
		flood:      map[uint32]*floodRule{},
		fails:      map[uint32]*tgerr.Error{},
		failsAfter: map[uint32]*failAfter{},
		holds:      map[uint32]chan struct{}{},
		held:       map[uint32]int{},
		callsOf:    map[uint32]int{},
	}
	s.rpcs = s.routes()
	s.srv = tgtest.NewServer(tgtest.NewPrivateKey(key), tgtest.HandlerFunc(s.onMessage), tgtest.ServerOptions{
		DC:          dcID,
		ReadTimeout: readTimeout,
	})
	// The server outlives Start's ctx: it runs until Close.
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(s.ctx, transport.Listen(s.ln)); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("tguserfake: serve", "err", err)
		}
	}()
	s.log.Info("tguserfake: listening", "addr", s.addr, "dc", dcID)
	return s, nil
}

// Close stops listening, drops every connection and waits for the
// server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.ln.closeAll()
	<-s.served
	return nil
}

// Addr is the "127.0.0.1:PORT" the server listens on.
func (s *Server) Addr() string { return s.addr }

// Port is the TCP port of Addr.
func (s *Server) Port() int { return s.port }

// DC is the data center id: 2.
func (s *Server) DC() int { return dcID }

// PublicKey is the server's RSA key, for telegram.PublicKey{RSA: ...}.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// PublicKeyPEM is the server's RSA public key as a PKCS#1 "RSA PUBLIC KEY"
// PEM block.
func (s *Server) PublicKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&s.key.PublicKey)})
}

// DCOption is this server as a DC option for a client's dcs.List.
func (s *Server) DCOption() tg.DCOption {
	return tg.DCOption{ID: dcID, IPAddress: s.ip, Port: s.port}
}

// rpcFunc answers one RPC; the request is still to be decoded from c.buf.
type rpcFunc func(c *call) (bin.Encoder, error)

// call is one RPC being served.
type call struct {
	s    *Server
	buf  *bin.Buffer // the request, after its invoke wrappers
	key  [8]byte     // auth key id
	user int64       // authorized user, 0 if none
}

// account returns the caller's account or AUTH_KEY_UNREGISTERED.
// The caller holds s.mu.
func (c *call) account() (*account, error) {
	if c.user == 0 {
		return nil, errUnauthorized
	}
	a := c.s.users[c.user]
	if a == nil {
		return nil, errUnauthorized
	}
	return a, nil
}

var errUnauthorized = tgerr.New(401, "AUTH_KEY_UNREGISTERED")

// Service messages a client may send that need no answer.
var serviceTypes = map[uint32]bool{
	0x62d6b459: true, // msgs_ack
	0xda69fb52: true, // msgs_state_req
	0x7d861a08: true, // msg_resend_req
	0xe7512126: true, // destroy_session
	0x9299359f: true, // http_wait
}

// peekID decodes a query wrapper's inner query without consuming it.
type peekID struct{ id uint32 }

func (p *peekID) Decode(b *bin.Buffer) error {
	id, err := b.PeekID()
	p.id = id
	return err
}

func (p *peekID) Encode(*bin.Buffer) error { return errors.New("peekID is decode-only") }

// onMessage is the tgtest handler for every request.
func (s *Server) onMessage(srv *tgtest.Server, req *tgtest.Request) error {
	id, err := req.Buf.PeekID()
	if err != nil {
		return nil
	}
	if serviceTypes[id] {
		return nil
	}
	noUpdates := false
	for {
		var inner peekID
		var wrapper bin.Decoder
		switch id {
		case tg.InvokeWithLayerRequestTypeID:
			wrapper = &tg.InvokeWithLayerRequest{Query: &inner}
		case tg.InitConnectionRequestTypeID:
			wrapper = &tg.InitConnectionRequest{Query: &inner}
		case tg.InvokeWithoutUpdatesRequestTypeID:
			wrapper = &tg.InvokeWithoutUpdatesRequest{Query: &inner}
			noUpdates = true
		case tg.InvokeAfterMsgRequestTypeID:
			wrapper = &tg.InvokeAfterMsgRequest{Query: &inner}
		}
		if wrapper == nil {
			break
		}
		if err := wrapper.Decode(req.Buf); err != nil {
			return srv.SendErr(req, tgerr.New(400, "INPUT_REQUEST_INVALID"))
		}
		id = inner.id
	}

	c := &call{s: s, buf: req.Buf, key: req.Session.AuthKey.ID}
	s.mu.Lock()
	s.seen++
	ss := s.sessions[req.Session.ID]
	if ss == nil {
		ss = &mtSession{s: req.Session, key: c.key}
		s.sessions[req.Session.ID] = ss
	}
	ss.seen = s.seen
	ss.noUpdates = noUpdates
	if k := s.keys[c.key]; k != nil {
		c.user = k.user
	}
	floodErr := s.takeFlood(id)
	if f := s.failsAfter[id]; f != nil {
		if f.left > 0 {
			f.left--
		} else {
			floodErr = f.err
		}
	}
	if s.fails[id] != nil {
		floodErr = s.fails[id]
	}
	hold := s.holds[id]
	if hold != nil {
		s.held[id]++
	}
	if !ownCall(id) {
		s.calls++
	}
	s.callsOf[id]++
	s.mu.Unlock()
	if hold != nil {
		// As Telegram: the request is acknowledged and answered once
		// released; the connection's other requests go on meanwhile.
		if err := srv.SendAck(s.ctx, req.Session, req.MsgID); err != nil {
			return err
		}
		held := *req
		held.Buf = &bin.Buffer{Buf: slices.Clone(req.Buf.Buf)} // the connection reuses its buffer
		c.buf = held.Buf
		go func() {
			select {
			case <-hold:
			case <-s.ctx.Done():
			}
			s.mu.Lock()
			s.held[id]--
			s.mu.Unlock()
			if s.ctx.Err() != nil {
				return
			}
			if err := s.answer(srv, &held, c, id, floodErr); err != nil {
				s.log.Debug("tguserfake: answering a held call failed", "err", err)
			}
		}()
		return nil
	}
	return s.answer(srv, req, c, id, floodErr)
}

// answer runs call c (RPC id) and sends its result, or floodErr.
func (s *Server) answer(srv *tgtest.Server, req *tgtest.Request, c *call, id uint32, floodErr *tgerr.Error) error {
	name := s.names[id]
	if name == "" {
		name = "0x" + strconv.FormatUint(uint64(id), 16)
	}
	log := s.log.With("method", name, "user", c.user)
	if floodErr != nil {
		log.Debug("tguserfake: rpc flood wait", "err", floodErr)
		return srv.SendErr(req, floodErr)
	}
	fn := s.rpcs[id]
	if fn == nil {
		log.Warn("tguserfake: rpc not implemented")
		return srv.SendErr(req, services.ErrMethodNotImplemented.(*tgerr.Error))
	}
	res, err := fn(c)
	if err != nil {
		var rpcErr *tgerr.Error
		if !errors.As(err, &rpcErr) {
			log.Error("tguserfake: rpc failed", "err", err)
			rpcErr = tgerr.New(500, "INTERNAL")
		} else {
			log.Debug("tguserfake: rpc error", "err", rpcErr.Message)
		}
		return srv.SendErr(req, rpcErr)
	}
	log.Debug("tguserfake: rpc")
	return srv.SendResult(req, res)
}

// decode reads the request of type T from the call.
func decode[T any, P interface {
	*T
	bin.Decoder
}](c *call) (P, error) {
	p := P(new(T))
	if err := p.Decode(c.buf); err != nil {
		return nil, tgerr.New(400, "INPUT_REQUEST_INVALID")
	}
	return p, nil
}

// routes maps request type ids to their handlers.
func (s *Server) routes() map[uint32]rpcFunc {
	return map[uint32]rpcFunc{
		tg.HelpGetConfigRequestTypeID:    s.helpGetConfig,
		tg.HelpGetNearestDCRequestTypeID: s.helpGetNearestDC,
		tg.HelpGetCDNConfigRequestTypeID: s.helpGetCDNConfig,

		tg.AuthSendCodeRequestTypeID:       s.authSendCode,
		tg.AuthSignInRequestTypeID:         s.authSignIn,
		tg.AccountGetPasswordRequestTypeID: s.accountGetPassword,
		tg.AuthCheckPasswordRequestTypeID:  s.authCheckPassword,
		tg.AuthLogOutRequestTypeID:         s.authLogOut,

		tg.UsersGetUsersRequestTypeID:           s.usersGetUsers,
		tg.UsersGetFullUserRequestTypeID:        s.usersGetFullUser,
		tg.ContactsGetContactsRequestTypeID:     s.contactsGetContacts,
		tg.ContactsResolveUsernameRequestTypeID: s.contactsResolveUsername,
		tg.AccountUpdateStatusRequestTypeID:     s.accountUpdateStatus,
		tg.MessagesGetChatsRequestTypeID:        s.messagesGetChats,
		tg.MessagesGetFullChatRequestTypeID:     s.messagesGetFullChat,

		tg.MessagesGetDialogsRequestTypeID:  s.messagesGetDialogs,
		tg.MessagesGetHistoryRequestTypeID:  s.messagesGetHistory,
		tg.MessagesGetMessagesRequestTypeID: s.messagesGetMessages,

		tg.MessagesSendMessageRequestTypeID:    s.messagesSendMessage,
		tg.MessagesEditMessageRequestTypeID:    s.messagesEditMessage,
		tg.MessagesDeleteMessagesRequestTypeID: s.messagesDeleteMessages,
		tg.MessagesSendReactionRequestTypeID:   s.messagesSendReaction,
		tg.MessagesReadHistoryRequestTypeID:    s.messagesReadHistory,
		tg.MessagesSetTypingRequestTypeID:      s.messagesSetTyping,

		tg.UpdatesGetStateRequestTypeID:             s.updatesGetState,
		tg.UpdatesGetDifferenceRequestTypeID:        s.updatesGetDifference,
		tg.UpdatesGetChannelDifferenceRequestTypeID: s.updatesGetChannelDifference,

		tg.ChannelsGetChannelsRequestTypeID:    s.channelsGetChannels,
		tg.ChannelsGetMessagesRequestTypeID:    s.channelsGetMessages,
		tg.ChannelsDeleteMessagesRequestTypeID: s.channelsDeleteMessages,
		tg.ChannelsReadHistoryRequestTypeID:    s.channelsReadHistory,

		tg.UploadSaveFilePartRequestTypeID:    s.uploadSaveFilePart,
		tg.UploadSaveBigFilePartRequestTypeID: s.uploadSaveBigFilePart,
		tg.MessagesSendMediaRequestTypeID:     s.messagesSendMedia,
		tg.UploadGetFileRequestTypeID:         s.uploadGetFile,
	}
}

// readAs decodes c's request as a T and runs f on it as the caller's
// account, under the server's lock: the frame of the RPCs that read.
func readAs[T any, P interface {
	*T
	bin.Decoder
}](s *Server, c *call, f func(r P, me *account) (bin.Encoder, error)) (bin.Encoder, error) {
	r, err := decode[T, P](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me, err := c.account()
	if err != nil {
		return nil, err
	}
	return f(r, me)
}
