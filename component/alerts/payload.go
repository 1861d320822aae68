package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Notification is Alertmanager's webhook payload (version "4"; Grafana's
// webhook sends the same fields). Fields the gateway does not use are
// ignored, so payloads with more fields are accepted.
type Notification struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"` // alerts left out by max_alerts
	Status            string            `json:"status"`          // "firing" if any alert fires, else "resolved"
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a Notification.
type Alert struct {
	Status       string            `json:"status"` // "firing" or "resolved"
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"` // summary, description, ...
	StartsAt     string            `json:"startsAt"`    // RFC 3339; kept as text, not used
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Request is a parsed POST /alerts body: Alertmanager's payload (Alerts is
// set), or the simple form (Text is set).
type Request struct {
	Alerts *Notification
	Text   string
	// To lists destinations; empty means the configured routes decide.
	To []string
	// ID is the simple form's optional idempotency key: a request repeated
	// with the same id, text and destinations is queued once.
	ID string
}

// Limits on a request, beside MaxBody.
const (
	MaxTo     = 100  // destinations in "to"
	MaxAlerts = 1000 // alerts in one payload
	maxID     = 200  // bytes of "id"
)

// body is what Parse decodes: the union of both forms.
type body struct {
	Notification
	Alerts *[]Alert `json:"alerts"` // shadows Notification.Alerts, to see whether it was given
	Text   *string  `json:"text"`
	To     []string `json:"to"`
	ID     string   `json:"id"`
}

// Parse decodes a POST /alerts body. Its errors say what is wrong, for the
// caller.
func Parse(data []byte) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var b body
	if err := dec.Decode(&b); err != nil {
		return Request{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, errors.New("unexpected data after the JSON object")
	}
	if b.Alerts != nil && b.Text != nil {
		return Request{}, errors.New(`give either "alerts" (Alertmanager's payload) or "text", not both`)
	}
	if b.Alerts == nil && b.Text == nil {
		return Request{}, errors.New(`the body needs "alerts" (Alertmanager's webhook payload) or "text"`)
	}
	r := Request{To: b.To, ID: b.ID}
	if len(r.To) > MaxTo {
		return Request{}, fmt.Errorf(`"to" lists %d destinations; at most %d are allowed`, len(r.To), MaxTo)
	}
	for i, to := range r.To {
		if strings.TrimSpace(to) == "" {
			return Request{}, fmt.Errorf(`to[%d] is empty`, i)
		}
	}
	if len(r.ID) > maxID {
		return Request{}, fmt.Errorf(`"id" is longer than %d bytes`, maxID)
	}
	if b.Text != nil {
		r.Text = *b.Text
		if strings.TrimSpace(r.Text) == "" {
			return Request{}, errors.New(`"text" is empty`)
		}
		return r, nil
	}
	n := b.Notification
	n.Alerts = *b.Alerts
	switch {
	case len(n.Alerts) == 0:
		return Request{}, errors.New(`"alerts" is empty`)
	case len(n.Alerts) > MaxAlerts:
		return Request{}, fmt.Errorf(`%d alerts in one payload; at most %d are allowed`, len(n.Alerts), MaxAlerts)
	case n.TruncatedAlerts < 0:
		return Request{}, errors.New(`"truncatedAlerts" is negative`)
	}
	for i := range n.Alerts {
		a := &n.Alerts[i]
		if a.Status == "" {
			a.Status = n.Status
		}
		if a.Status != Firing && a.Status != Resolved {
			return Request{}, fmt.Errorf(`alerts[%d].status is %s; want "firing" or "resolved"`, i, quote(a.Status))
		}
	}
	r.Alerts = &n
	return r, nil
}

// jsonError rewords a decoding error for the caller.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON is cut short")
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return fmt.Errorf("the body must be a JSON object, not %s", te.Value)
		}
		return fmt.Errorf("%s must not be %s", quote(field), te.Value)
	}
	return fmt.Errorf("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max-3]) + "..."
	}
	return strconv.Quote(s)
}
