package clienttest

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// conversePage loads Converse.js from /dist/ and connects to the WebSocket
// URL. The user logs in through Converse's own form.
var conversePage = template.Must(template.New("converse").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>xmppgw – Converse.js</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script></head>
<body class="converse-fullscreen"><script type="module">
converse.initialize({
  websocket_url: {{.WebSocket}},
  assets_path: '/dist/',
  view_mode: 'fullscreen',
  auto_login: false,
  allow_registration: false,
  discover_connection_methods: false,
  allow_non_roster_messaging: true,
  play_sounds: false,
  show_message_avatar: false,
  persistent_store: 'sessionStorage',
  loglevel: 'info',
});
</script></body></html>`))

// ServeConverse serves Converse.js on a loopback port for a server whose
// XMPP-over-WebSocket endpoint is wsURL; it returns the page's URL.
func ServeConverse(t testing.TB, wsURL string) string {
	t.Helper()
	dist := http.StripPrefix("/dist/", http.FileServer(http.Dir(filepath.Join(WebDir(), "node_modules", "converse.js", "dist"))))
	mux := http.NewServeMux()
	mux.Handle("/dist/", dist)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := conversePage.Execute(w, struct{ WebSocket string }{wsURL}); err != nil {
			t.Errorf("clienttest: converse page: %v", err)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("clienttest: page served at %s, not on loopback", srv.URL)
	}
	return fmt.Sprintf("%s/", srv.URL)
}
