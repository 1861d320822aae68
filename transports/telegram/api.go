package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// requestTimeout bounds one Bot API request other than a long poll.
const requestTimeout = 30 * time.Second

// ctxClient binds the library's requests, which carry no context, to one,
// and notes the HTTP status of the answer, which the library ignores: an
// answer that is not Bot API JSON is known by it alone.
type ctxClient struct {
	ctx    context.Context
	c      *http.Client
	status *int // the answer's HTTP status; 0 if none came
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.c.Do(r.WithContext(c.ctx))
	if resp != nil {
		*c.status = resp.StatusCode
	}
	return resp, err
}

// newBot is the library's client for one request bound to ctx; status
// gets the answer's HTTP status.
func (t *Transport) newBot(ctx context.Context, status *int) *tgbotapi.BotAPI {
	bot := &tgbotapi.BotAPI{Token: t.s.Token, Client: ctxClient{ctx, t.http, status}}
	bot.SetAPIEndpoint(t.endpoint)
	return bot
}

// call makes one Bot API request bound to ctx and decodes its result into
// out (if not nil). Failures are *transports.Error without the token.
func (t *Transport) call(ctx context.Context, method string, p tgbotapi.Params, out any) error {
	timeout := requestTimeout
	if method == "getUpdates" {
		timeout += t.pollTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var status int
	resp, err := t.newBot(ctx, &status).MakeRequest(method, p)
	return t.result(method, status, resp, err, out)
}

// result is a Bot API answer to method, with HTTP status: err classified,
// or its result decoded into out (if not nil).
func (t *Transport) result(method string, status int, resp *tgbotapi.APIResponse, err error, out any) error {
	if err != nil {
		return t.classify(status, withCode(status, resp, err))
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram",
				Message: method + ": unexpected result: " + err.Error()}
		}
	}
	return nil
}

// isAdmin asks Telegram whether user administers chat (getChatMember:
// "creator" or "administrator").
func (t *Transport) isAdmin(ctx context.Context, chat, user int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var status int
	m, err := t.newBot(ctx, &status).GetChatMember(tgbotapi.GetChatMemberConfig{
		ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: chat, UserID: user}})
	if err != nil {
		return false, t.classify(status, err)
	}
	return m.IsCreator() || m.IsAdministrator(), nil
}

// withCode returns err with the error_code of the Bot API answer it came
// from. The library leaves Code out of the errors of uploads (UploadFiles),
// though their answer is Bot API JSON: its error_code is taken from resp,
// or, for an answer with a description alone, from the HTTP status.
func withCode(status int, resp *tgbotapi.APIResponse, err error) error {
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 0 {
		return err
	}
	e := *te
	switch {
	case resp != nil && resp.ErrorCode != 0:
		e.Code = resp.ErrorCode
	case e.Message != "" && status >= 400:
		e.Code = status
	default:
		return err
	}
	return &e
}

// classify sorts a Bot API failure into a transports.Error; status is the
// answer's HTTP status, 0 if none came.
func (t *Transport) classify(status int, err error) *transports.Error {
	var te *tgbotapi.Error
	isAPI := errors.As(err, &te)
	switch {
	case status >= 400 && (!isAPI || te.Code == 0):
		// An error answer, but not Bot API JSON (which always has an
		// error_code; see withCode for uploads): a proxy's or web
		// server's page in front of api_url.
		return notBotAPI(status)
	case !isAPI:
		// No answer, or one cut short or unreadable: temporary. URLs in
		// network errors contain the token.
		return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: t.scrub(err.Error()),
			NotSent: notConnected(err)}
	}
	e := &transports.Error{Provider: "Telegram", Code: strconv.Itoa(te.Code), Message: t.scrub(te.Message)}
	lower := strings.ToLower(te.Message)
	switch {
	case te.Code == http.StatusTooManyRequests:
		e.Kind = transports.KindRateLimited
		e.RetryAfter = time.Duration(te.RetryAfter) * time.Second
	case te.Code == http.StatusUnauthorized || te.Code == http.StatusNotFound:
		e.Kind = transports.KindAuth // a wrong token, or a wrong api_url
	case te.Code == http.StatusForbidden, strings.Contains(lower, "chat not found"),
		te.MigrateToChatID != 0:
		e.Kind = transports.KindUnreachable // blocked, kicked, gone, or upgraded to a supergroup
	case te.Code == http.StatusBadRequest:
		e.Kind = transports.KindRejected
	case te.Code >= 500 || te.Code == http.StatusConflict:
		e.Kind = transports.KindUnavailable
	default:
		e.Kind = transports.KindUnknown
	}
	return e
}

// notConnected reports whether err is a failure to connect to api_url (a
// name that did not resolve, a connection refused, a proxy not reached):
// the request was not sent, so Telegram surely did not take it.
func notConnected(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "dial" || oe.Op == "proxyconnect")
}

// notBotAPI is an error answer of HTTP status (400 or more) whose body is
// not Bot API JSON, classified as its JSON form would be: 5xx and 408 are
// temporary, 429 is a rate limit, 401 and 404 mean a wrong token or
// api_url, and any other 4xx refuses the request for good (a proxy's 413
// for an upload too large is not worth retrying until retry_for). The
// text names the status, never the URL, which holds the token.
func notBotAPI(status int) *transports.Error {
	e := &transports.Error{Provider: "Telegram",
		Message: fmt.Sprintf("HTTP %d %s from api_url (not a Bot API answer)", status, http.StatusText(status))}
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind = transports.KindRateLimited
	case status == http.StatusUnauthorized || status == http.StatusNotFound:
		e.Kind = transports.KindAuth
	case status == http.StatusRequestTimeout, status >= 500:
		e.Kind = transports.KindUnavailable
	default:
		e.Kind = transports.KindRejected
	}
	return e
}

// scrub removes the bot token from a text.
func (t *Transport) scrub(s string) string {
	return strings.ReplaceAll(s, t.s.Token, "<token>")
}

// notModified reports whether err is Telegram's refusal to edit a message
// to the text it already has.
func notModified(err error) bool {
	var pe *transports.Error
	return errors.As(err, &pe) && strings.Contains(pe.Message, "message is not modified")
}

// editGone reports whether err says the message to edit no longer exists.
func editGone(err error) bool {
	var pe *transports.Error
	return errors.As(err, &pe) && strings.Contains(pe.Message, "message to edit not found")
}

// noText reports whether err is Telegram's refusal of editMessageText on a
// message that carries a file (its caption is changed with
// editMessageCaption).
func noText(err error) bool {
	var pe *transports.Error
	return errors.As(err, &pe) && strings.Contains(pe.Message, "there is no text in the message to edit")
}

// noCaption reports whether err is Telegram's refusal of
// editMessageCaption on a text message.
func noCaption(err error) bool {
	var pe *transports.Error
	return errors.As(err, &pe) && strings.Contains(pe.Message, "there is no caption in the message to edit")
}

// mediaNotEditable reports whether err is Telegram's refusal to replace
// the file of a message (editMessageMedia) that cannot have another: a
// voice note.
func mediaNotEditable(err error) bool {
	var pe *transports.Error
	return errors.As(err, &pe) && strings.Contains(pe.Message, "message media can't be edited")
}
