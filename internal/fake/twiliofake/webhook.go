package twiliofake

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Sign computes X-Twilio-Signature for a POST of form to fullURL:
// base64(HMAC-SHA1(authToken, fullURL + key+value of each param, sorted by
// key)). Repeated keys contribute each value, values sorted, as Twilio's
// helper libraries do.
func Sign(authToken, fullURL string, form url.Values) string {
	var sb strings.Builder
	sb.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range slices.Sorted(slices.Values(form[k])) {
			sb.WriteString(k)
			sb.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(sb.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PostForm posts form to webhookURL as Twilio does: form-encoded, signed with
// the auth token, User-Agent "TwilioProxy/1.1". It returns the HTTP status;
// err is only for failures to get one.
func (f *Fake) PostForm(ctx context.Context, webhookURL string, form url.Values) (status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", Sign(f.authToken, webhookURL, form))
	req.Header.Set("I-Twilio-Idempotency-Token", newSID(""))
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// SendInbound posts an incoming SMS from -> to to webhookURL (the number's
// "A message comes in" URL) with a new MessageSid, which it returns so that
// tests can replay the same message with PostForm.
func (f *Fake) SendInbound(ctx context.Context, webhookURL string, from, to, body string) (sid string, status int, err error) {
	sid = newSID("SM")
	status, err = f.PostForm(ctx, webhookURL, f.InboundForm(sid, from, to, body))
	return sid, status, err
}

// InboundForm returns the params Twilio posts for an incoming SMS.
func (f *Fake) InboundForm(sid, from, to, body string) url.Values {
	return url.Values{
		"MessageSid":    {sid},
		"SmsMessageSid": {sid},
		"SmsSid":        {sid},
		"AccountSid":    {f.accountSID},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(Segments(body))},
		"SmsStatus":     {"received"},
		"ApiVersion":    {apiVersion},
	}
}

// SendStatus posts a status callback for m to m.StatusCallback: status is a
// MessageStatus ("sent", "delivered", "undelivered", "failed", ...) and
// errorCode, if not empty, a Twilio error code such as "30003".
func (f *Fake) SendStatus(ctx context.Context, m Message, status string, errorCode string) (int, error) {
	if m.StatusCallback == "" {
		return 0, errors.New("twiliofake: message " + m.SID + " has no status callback")
	}
	form := url.Values{
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"AccountSid":    {f.accountSID},
		"From":          {m.From},
		"To":            {m.To},
		"ApiVersion":    {apiVersion},
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	return f.PostForm(ctx, m.StatusCallback, form)
}
