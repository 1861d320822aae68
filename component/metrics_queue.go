package component

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"xmppgw/mapping"
)

var queueDepthDesc = prometheus.NewDesc("xmppgw_queue_depth",
	"Messages stored and not yet done, by transport and queue: out (waiting for the provider), in (waiting to be written to XMPP).",
	[]string{"transport", "queue"}, nil)

// queueCollector reads the queue depths from the store, at most once per
// depthEvery: /metrics is served to anyone who can reach the gateway, and
// counting a long queue reads it all.
type queueCollector struct {
	mu     sync.Mutex
	queues []queueOf
	read   time.Time // when depths was read
	depths []prometheus.Metric
}

// depthEvery is how long queue depths read from the store are served again.
const depthEvery = time.Second

type queueOf struct {
	name  string
	store *mapping.Store
}

func (c *queueCollector) add(name string, store *mapping.Store) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queues = append(c.queues, queueOf{name, store})
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock() // one scrape reads the store at a time
	if c.depths == nil || time.Since(c.read) >= depthEvery {
		c.depths = c.readDepths()
		c.read = time.Now()
	}
	for _, m := range c.depths {
		ch <- m
	}
}

// readDepths reads every queue's depths from the store; c.mu is held.
func (c *queueCollector) readDepths() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []prometheus.Metric
	for _, q := range c.queues {
		o, in, err := q.store.Depth(ctx, q.name)
		if err != nil {
			out = append(out, prometheus.NewInvalidMetric(queueDepthDesc, err))
			continue
		}
		out = append(out,
			prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(o), q.name, "out"),
			prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(in), q.name, "in"))
	}
	return out
}
