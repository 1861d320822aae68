package amtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"xmppgw/internal/xmpptest"
)

// binary is Debian's name for Alertmanager.
const binary = "prometheus-alertmanager"

// Installed reports whether Alertmanager can be run.
func Installed() error {
	if _, err := exec.LookPath(binary); err != nil {
		return fmt.Errorf("amtest: %s not found; run `make deps` (scripts/install-deps.sh) to install the prometheus-alertmanager package", binary)
	}
	return nil
}

// Config is what Start runs.
type Config struct {
	// WebhookURL is where the receiver posts notifications, with Token as
	// a bearer token and send_resolved on.
	WebhookURL, Token string
	// Dir holds the config, the data and the log.
	Dir string
}

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	URL     string // http://127.0.0.1:PORT
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	once    sync.Once
}

// config is Alertmanager's configuration: every alert to the one webhook,
// grouped by alertname, with short waits so that tests are quick.
func (c Config) config() ([]byte, error) {
	return yaml.Marshal(map[string]any{
		"route": map[string]any{"receiver": "xmppgw", "group_by": []string{"alertname"},
			"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"},
		"receivers": []any{map[string]any{"name": "xmppgw", "webhook_configs": []any{map[string]any{
			"url": c.WebhookURL, "send_resolved": true,
			"http_config": map[string]any{"authorization": map[string]any{"credentials": c.Token}}}}}},
	})
}

// Start runs Alertmanager on a free loopback port, clustering off, and
// waits until it is ready.
func Start(ctx context.Context, c Config) (*Alertmanager, error) {
	if err := Installed(); err != nil {
		return nil, err
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(c.Dir, "alertmanager.yml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return nil, err
	}
	port, err := xmpptest.FreePort()
	if err != nil {
		return nil, err
	}
	a := &Alertmanager{URL: "http://127.0.0.1:" + strconv.Itoa(port), LogPath: filepath.Join(c.Dir, "alertmanager.log"), exited: make(chan struct{})}
	log, err := os.Create(a.LogPath)
	if err != nil {
		return nil, err
	}
	a.cmd = exec.Command(binary, "--config.file="+path, "--storage.path="+filepath.Join(c.Dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--cluster.listen-address=")
	a.cmd.Stdout, a.cmd.Stderr = log, log
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("amtest: %w", err)
	}
	go func() { a.cmd.Wait(); log.Close(); close(a.exited) }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get(a.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a, nil
			}
		}
		select {
		case <-a.exited:
			return nil, fmt.Errorf("amtest: alertmanager exited; log %s:\n%s", a.LogPath, a.Log())
		case <-ctx.Done():
			a.Stop()
			return nil, fmt.Errorf("amtest: alertmanager not ready: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// StartT is Start for a test, in its temporary directory, stopped when it
// ends; a missing Alertmanager fails the test.
func StartT(t testing.TB, c Config) *Alertmanager {
	t.Helper()
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	a, err := Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("alertmanager log (%s):\n%s", a.LogPath, a.Log())
		}
	})
	return a
}

// Stop ends Alertmanager and waits for it.
func (a *Alertmanager) Stop() {
	a.once.Do(func() {
		a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.exited:
		case <-time.After(10 * time.Second):
			a.cmd.Process.Kill()
			<-a.exited
		}
	})
}

// Log is Alertmanager's log so far.
func (a *Alertmanager) Log() string {
	b, _ := os.ReadFile(a.LogPath)
	return string(b)
}

// Alert is an alert as Prometheus posts it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	EndsAt      *time.Time        `json:"endsAt,omitempty"`
}

// Fire posts alerts as firing.
func (a *Alertmanager) Fire(ctx context.Context, alerts ...Alert) error {
	return a.post(ctx, "/api/v2/alerts", alerts, nil)
}

// Resolve posts alerts as resolved: ended a second ago.
func (a *Alertmanager) Resolve(ctx context.Context, alerts ...Alert) error {
	ended := time.Now().Add(-time.Second).UTC()
	for i := range alerts {
		alerts[i].EndsAt = &ended
	}
	return a.post(ctx, "/api/v2/alerts", alerts, nil)
}

// Silence is a silence as the API lists it.
type Silence struct {
	ID        string `json:"id"`
	CreatedBy string `json:"createdBy"`
	Comment   string `json:"comment"`
	Matchers  []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual bool   `json:"isEqual"`
	} `json:"matchers"`
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
	Status   struct {
		State string `json:"state"`
	} `json:"status"`
}

// Silences lists the silences.
func (a *Alertmanager) Silences(ctx context.Context) ([]Silence, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+"/api/v2/silences", nil)
	if err != nil {
		return nil, err
	}
	var out []Silence
	return out, a.do(req, &out)
}

func (a *Alertmanager) post(ctx context.Context, path string, v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req, out)
}

func (a *Alertmanager) do(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("amtest: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("amtest: %s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errors.Join(fmt.Errorf("amtest: %s: %s", req.URL.Path, b), err)
	}
	return nil
}
