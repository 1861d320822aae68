package quietlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOncePerMinute(t *testing.T) {
	var buf bytes.Buffer
	log := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	now := time.Unix(1000, 0)
	log.Handler().(*handler).s.now = func() time.Time { return now }

	for range 5 {
		log.Warn("refused", "remote", "127.0.0.1:1")
	}
	log.With("k", "v").Warn("other")
	now = now.Add(Every - time.Second)
	log.Warn("refused", "remote", "127.0.0.1:2")
	now = now.Add(time.Second)
	log.Warn("refused", "remote", "127.0.0.1:3")
	log.Warn("refused", "remote", "127.0.0.1:4")
	now = now.Add(Every)
	log.Warn("refused", "remote", "127.0.0.1:5")

	want := strings.Join([]string{
		`level=WARN msg=refused remote=127.0.0.1:1`,
		`level=WARN msg=other k=v`,
		`level=WARN msg=refused remote=127.0.0.1:3 repeats_dropped=5`,
		`level=WARN msg=refused remote=127.0.0.1:5 repeats_dropped=1`,
		``,
	}, "\n")
	if got := buf.String(); got != want {
		t.Errorf("logged\n%s\nwant\n%s", got, want)
	}
}
