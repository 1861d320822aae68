package component

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus metrics, shared by every gateway of
// a process and labelled by transport.
type Metrics struct {
	// Latency is the gateway's own share of a message's trip: from reading
	// the stanza to the provider request (out), and from the provider's
	// event to writing the stanza to the server (in).
	Latency *prometheus.HistogramVec
	// Messages counts messages relayed, by direction.
	Messages *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xmppgw_relay_latency_seconds",
			Help: "Time a message spends in the gateway: stanza read to provider request (out), provider event to stanza written (in).",
			Buckets: []float64{.0001, .00025, .0005, .00075, .001, .0015, .002, .003, .004, .005, .0075,
				.01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"transport", "direction"}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_messages_total",
			Help: "Messages relayed, by transport and direction (out: XMPP to provider, in: provider to XMPP).",
		}, []string{"transport", "direction"}),
	}
	reg.MustRegister(m.Latency, m.Messages)
	return m
}

// clock remembers when messages entered the gateway, by key, until they
// leave it; entries older than an hour are dropped (jobs retried that long
// are not latency samples).
type clock struct {
	mu    sync.Mutex
	start map[int64]time.Time
}

func (c *clock) mark(key int64, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.start == nil {
		c.start = map[int64]time.Time{}
	}
	if len(c.start) > 100_000 {
		for k, at := range c.start {
			if time.Since(at) > time.Hour {
				delete(c.start, k)
			}
		}
	}
	c.start[key] = t
}

// take returns and forgets when key entered.
func (c *clock) take(key int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.start[key]
	delete(c.start, key)
	return t, ok
}

// observe records a message leaving the gateway in direction ("out", "in")
// that entered it at start. Only messages that entered while metrics were on
// are counted.
func (g *Gateway) observe(direction string, start time.Time) {
	g.o.Metrics.Messages.WithLabelValues(g.name, direction).Inc()
	g.o.Metrics.Latency.WithLabelValues(g.name, direction).Observe(time.Since(start).Seconds())
}
