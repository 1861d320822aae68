package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Silencer creates silences. Alertmanager implements it.
type Silencer interface {
	// Silence silences the alerts with all of labels for d, by by, with
	// comment, for the answer key, and returns the silence's id: the id of
	// the silence made for key before, if it is still there, so that an
	// answer delivered again makes one. Its errors say why, for the person
	// who asked.
	Silence(ctx context.Context, labels map[string]string, d time.Duration, by, comment, key string) (string, error)
}

// SilenceTimeout bounds a silence: the requests to Alertmanager it makes.
const SilenceTimeout = 10 * time.Second

// Alertmanager creates silences through an Alertmanager's API v2
// (POST /api/v2/silences), after looking for the answer's own among the
// active ones (GET /api/v2/silences): its comment ends with the answer's
// key, hashed.
type Alertmanager struct {
	URL    string // http://127.0.0.1:9093, no trailing slash
	Client *http.Client
	Now    func() time.Time
}

type amMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

type amSilence struct {
	Matchers  []amMatcher `json:"matchers"`
	StartsAt  time.Time   `json:"startsAt"`
	EndsAt    time.Time   `json:"endsAt"`
	CreatedBy string      `json:"createdBy"`
	Comment   string      `json:"comment"`
}

// Silence implements Silencer.
func (a *Alertmanager) Silence(ctx context.Context, labels map[string]string, d time.Duration, by, comment, key string) (string, error) {
	if len(labels) == 0 {
		return "", fmt.Errorf("the group has no labels to silence by")
	}
	ctx, cancel := context.WithTimeout(ctx, SilenceTimeout)
	defer cancel()
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now().UTC()
	mark := "[xmppgw " + hashID("answer", key) + "]"
	s := amSilence{StartsAt: start, EndsAt: start.Add(d), CreatedBy: by, Comment: comment + " " + mark}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		s.Matchers = append(s.Matchers, amMatcher{Name: k, Value: labels[k], IsEqual: true})
	}
	if id, err := a.find(ctx, s.Matchers, mark); err != nil || id != "" {
		return id, err
	}
	body, _ := json.Marshal(s)
	data, err := a.do(ctx, http.MethodPost, bytes.NewReader(body), "the silence")
	if err != nil {
		return "", err
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.SilenceID == "" {
		return "", fmt.Errorf("Alertmanager's answer names no silence: %s", oneLine(string(data)))
	}
	return out.SilenceID, nil
}

// find returns the id of an active or pending silence with matchers whose
// comment holds mark, or "".
func (a *Alertmanager) find(ctx context.Context, matchers []amMatcher, mark string) (string, error) {
	data, err := a.do(ctx, http.MethodGet, nil, "the list of silences")
	if err != nil {
		return "", err
	}
	var list []struct {
		ID     string `json:"id"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
		Comment  string      `json:"comment"`
		Matchers []amMatcher `json:"matchers"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return "", fmt.Errorf("Alertmanager's list of silences is not one: %s", oneLine(string(data)))
	}
	for _, x := range list {
		slices.SortFunc(x.Matchers, func(a, b amMatcher) int { return strings.Compare(a.Name, b.Name) })
		if (x.Status.State == "active" || x.Status.State == "pending") && strings.Contains(x.Comment, mark) && slices.Equal(x.Matchers, matchers) {
			return x.ID, nil
		}
	}
	return "", nil
}

// maxSilences bounds the list of silences read, in bytes.
const maxSilences = 8 << 20

// do sends a request to /api/v2/silences and returns the answer's body if
// it is 200 OK; its errors name what (the silence) was refused.
func (a *Alertmanager) do(ctx context.Context, method string, body io.Reader, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.URL+"/api/v2/silences", body)
	if err != nil {
		return nil, fmt.Errorf("the Alertmanager URL in the config is not usable")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		// Not the URL: the text goes to whoever answered, and the URL may
		// hold a password. The cause (net/http strips passwords) is logged.
		return nil, &unreachable{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSilences))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("Alertmanager refused %s (%d): %s", what, resp.StatusCode, oneLine(string(data[:min(len(data), 4096)])))
	}
	if err != nil {
		return nil, &unreachable{err}
	}
	return data, nil
}

// oneLine is s on one line, cut to a readable length.
func oneLine(s string) string {
	s = clean(strings.Trim(s, "\"\n"))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:197]) + "..."
	}
	return s
}

// unreachable is a failure to reach Alertmanager: its text is for users,
// its cause for the log.
type unreachable struct{ cause error }

func (e *unreachable) Error() string { return "cannot reach Alertmanager" }
func (e *unreachable) Unwrap() error { return e.cause }
