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
	// comment, and returns the silence's id. Its errors say why, for the
	// person who asked.
	Silence(ctx context.Context, labels map[string]string, d time.Duration, by, comment string) (string, error)
}

// Alertmanager creates silences through an Alertmanager's API v2
// (POST /api/v2/silences).
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
func (a *Alertmanager) Silence(ctx context.Context, labels map[string]string, d time.Duration, by, comment string) (string, error) {
	if len(labels) == 0 {
		return "", fmt.Errorf("the group has no labels to silence by")
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now().UTC()
	s := amSilence{StartsAt: start, EndsAt: start.Add(d), CreatedBy: by, Comment: comment}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		s.Matchers = append(s.Matchers, amMatcher{Name: k, Value: labels[k], IsEqual: true})
	}
	body, _ := json.Marshal(s)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/api/v2/silences", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("the Alertmanager URL in the config is not usable")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.Client.Do(req)
	if err != nil {
		// Not the URL: the text goes to whoever answered, and the URL may
		// hold a password. The cause (net/http strips passwords) is logged.
		return "", &unreachable{err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("Alertmanager refused the silence (%d): %s", resp.StatusCode, oneLine(string(data)))
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.SilenceID == "" {
		return "", fmt.Errorf("Alertmanager's answer names no silence: %s", oneLine(string(data)))
	}
	return out.SilenceID, nil
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
