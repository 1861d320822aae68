package main

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"xmppgw/internal/quietlog"
)

// logRefusals counts in refused, by status, the webhook requests answered
// with a 4xx status, and logs those refused as malformed, oversized or of
// the wrong method or type, which transports answer without logging (at
// most once a minute each: quietlog).
func logRefusals(log *slog.Logger, refused *prometheus.CounterVec, h http.Handler) http.Handler {
	log = quietlog.New(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		if sw.status >= 400 && sw.status < 500 {
			refused.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		}
		switch sw.status {
		case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusNotFound:
			log.Warn("webhook refused", "status", sw.status, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
