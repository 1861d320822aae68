package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"xmppgw/transports"
)

// requestTimeout bounds one Bot API request other than a long poll.
const requestTimeout = 30 * time.Second

// ctxClient binds the library's requests, which carry no context, to one.
type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) { return c.c.Do(r.WithContext(c.ctx)) }

// call makes one Bot API request bound to ctx and decodes its result into
// out (if not nil). Failures are *transports.Error without the token.
func (t *Transport) call(ctx context.Context, method string, p tgbotapi.Params, out any) error {
	timeout := requestTimeout
	if method == "getUpdates" {
		timeout += t.pollTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bot := &tgbotapi.BotAPI{Token: t.s.Token, Client: ctxClient{ctx, t.http}}
	bot.SetAPIEndpoint(t.endpoint)
	resp, err := bot.MakeRequest(method, p)
	return t.result(method, resp, err, out)
}

// result is a Bot API answer to method: err classified, or its result
// decoded into out (if not nil).
func (t *Transport) result(method string, resp *tgbotapi.APIResponse, err error, out any) error {
	if err != nil {
		return t.classify(err)
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
	bot := &tgbotapi.BotAPI{Token: t.s.Token, Client: ctxClient{ctx, t.http}}
	bot.SetAPIEndpoint(t.endpoint)
	m, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{
		ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: chat, UserID: user}})
	if err != nil {
		return false, t.classify(err)
	}
	return m.IsCreator() || m.IsAdministrator(), nil
}

// classify sorts a Bot API failure into a transports.Error.
func (t *Transport) classify(err error) *transports.Error {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		// Network failures and bodies that are not Bot API JSON (a proxy's
		// error page) are temporary. URLs in them contain the token.
		return &transports.Error{Kind: transports.KindUnavailable, Provider: "Telegram", Message: t.scrub(err.Error())}
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
