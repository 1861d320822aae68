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

// queueCollector reads the queue depths from the store at each scrape.
type queueCollector struct {
	mu     sync.Mutex
	queues []queueOf
}

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
	queues := append([]queueOf(nil), c.queues...)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range queues {
		out, in, err := q.store.Depth(ctx, q.name)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(out), q.name, "out")
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(in), q.name, "in")
	}
}
