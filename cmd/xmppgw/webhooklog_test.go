package main

import (
	"bytes"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Every refusal is counted by status; the log gets one line a minute.
func TestLogRefusals(t *testing.T) {
	var buf bytes.Buffer
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refused"}, []string{"status"})
	h := logRefusals(slog.New(slog.NewTextHandler(&buf, nil)), refused,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/bad":
				http.Error(w, "bad", http.StatusBadRequest)
			case "/unsigned":
				http.Error(w, "bad signature", http.StatusForbidden)
			}
		}))
	for _, path := range []string{"/bad", "/bad", "/bad", "/unsigned", "/unsigned", "/ok"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(refused)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range fams[0].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if want := map[string]float64{"400": 3, "403": 2}; !maps.Equal(got, want) {
		t.Errorf("counted %v, want %v", got, want)
	}
	if n := strings.Count(buf.String(), "webhook refused"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, buf.String())
	}
}
