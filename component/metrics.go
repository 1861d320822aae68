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
	// Errors counts failures by kind: each failed provider request by its
	// kind (rate_limited, unavailable, rejected...), a provider's failure
	// report (delivery_failed), malformed XML from the server (malformed).
	Errors *prometheus.CounterVec
	// Refusals counts stanzas answered with an error, by condition.
	Refusals *prometheus.CounterVec
	// Retries counts provider requests retried after a temporary failure.
	Retries *prometheus.CounterVec
	// UncheckedResends counts sends of unknown outcome repeated without a
	// check at the provider (the transport cannot ask it, it cannot list
	// its messages, or the operator chose not to): each may have reached
	// the recipient twice.
	UncheckedResends *prometheus.CounterVec
	// Requests times provider requests, by outcome ("ok" or an error kind).
	Requests *prometheus.HistogramVec
	// Connected is 1 while a transport's component session is up.
	Connected *prometheus.GaugeVec
	// Reconnects counts component sessions established after the first.
	Reconnects *prometheus.CounterVec
	// Restarts counts component sessions that ended or failed to start,
	// by cause (see conn.Conn.OnRestart).
	Restarts *prometheus.CounterVec
	// Unwritten counts answers to stanzas read from the server that were
	// not written: their session had ended for good (shutdown).
	Unwritten *prometheus.CounterVec
	// WebhookRefusals counts provider webhooks answered with a 4xx status,
	// by status: unsigned, malformed, of the wrong method...
	WebhookRefusals *prometheus.CounterVec
	// Active is 1 while this instance holds the component connections
	// (always, without a standby), 0 while it is a standby.
	Active prometheus.Gauge

	queues *queueCollector
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
			Help: "Messages relayed, by transport and direction: out, taken by the provider; in, from the provider and stored for XMPP (then written in order).",
		}, []string{"transport", "direction"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_errors_total",
			Help: "Failures by transport and kind: provider request failures by their kind, delivery_failed reports, malformed XML.",
		}, []string{"transport", "kind"}),
		Refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_stanza_errors_total",
			Help: "Stanzas answered with an XMPP error, by transport and condition.",
		}, []string{"transport", "condition"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_retries_total",
			Help: "Provider requests retried after a temporary failure.",
		}, []string{"transport"}),
		UncheckedResends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_unchecked_resends_total",
			Help: "Sends of unknown outcome (a timeout, a 5xx) repeated without checking the provider first: possible duplicates.",
		}, []string{"transport"}),
		Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xmppgw_provider_request_seconds",
			Help:    "Provider API requests that send a message, by transport and outcome (ok or the failure kind).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"transport", "outcome"}),
		Connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xmppgw_component_connected",
			Help: "1 while the transport's XEP-0114 component session is up.",
		}, []string{"transport"}),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_component_reconnects_total",
			Help: "Component sessions established again after the first one.",
		}, []string{"transport"}),
		Restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_component_restarts_total",
			Help: "Component sessions that ended or failed to start, by cause: dial, handshake, stream_error, malformed, closed, unanswered, io.",
		}, []string{"transport", "cause"}),
		Unwritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_answers_unwritten_total",
			Help: "Answers to stanzas read from the XMPP server that were not written: their session had ended for good (shutdown).",
		}, []string{"transport"}),
		WebhookRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppgw_webhook_refusals_total",
			Help: "Provider webhook requests refused with a 4xx status, by transport and status.",
		}, []string{"transport", "status"}),
		Active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xmppgw_active",
			Help: "1 while this instance holds the component connections, 0 while it is a standby.",
		}),
		queues: &queueCollector{},
	}
	reg.MustRegister(m.Latency, m.Messages, m.Errors, m.Refusals, m.Retries, m.UncheckedResends, m.Requests,
		m.Connected, m.Reconnects, m.Restarts, m.Unwritten, m.WebhookRefusals, m.Active, m.queues)
	return m
}

// clockMax bounds a clock's marks. A message marked while it holds that
// many (a backlog) is not: its latency is not observed.
const clockMax = 100_000

// clock remembers when messages entered the gateway, by key, until they
// leave it. Marks over an hour old (jobs retried that long are not latency
// samples) are swept once every clockMax marks: O(1) a mark, amortised.
type clock struct {
	mu    sync.Mutex
	start map[int64]time.Time
	since int // marks since the last sweep
}

func (c *clock) mark(key int64, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.start == nil {
		c.start = map[int64]time.Time{}
	}
	if c.since++; c.since >= clockMax {
		c.since = 0
		for k, at := range c.start {
			if t.Sub(at) > time.Hour {
				delete(c.start, k)
			}
		}
	}
	if len(c.start) < clockMax {
		c.start[key] = t
	}
}

// take returns and forgets when key entered.
func (c *clock) take(key int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.start[key]
	delete(c.start, key)
	return t, ok
}

// countMessage counts a message relayed in direction, if metrics are on.
func (g *Gateway) countMessage(direction string) {
	if g.o.Metrics != nil {
		g.o.Metrics.Messages.WithLabelValues(g.name, direction).Inc()
	}
}

// countError counts a failure of kind, if metrics are on.
func (g *Gateway) countError(kind string) {
	if g.o.Metrics != nil {
		g.o.Metrics.Errors.WithLabelValues(g.name, kind).Inc()
	}
}

// observeRequest times one provider request that began at began and
// counts its failure by kind.
func (g *Gateway) observeRequest(began time.Time, err error) {
	if g.o.Metrics == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = providerError(err).Kind.String()
		g.countError(outcome)
	}
	g.o.Metrics.Requests.WithLabelValues(g.name, outcome).Observe(time.Since(began).Seconds())
}

// observe records a message leaving the gateway in direction ("out", "in")
// that entered it at start. Only messages that entered while metrics were on
// are counted.
func (g *Gateway) observe(direction string, start time.Time) {
	g.o.Metrics.Latency.WithLabelValues(g.name, direction).Observe(time.Since(start).Seconds())
}
