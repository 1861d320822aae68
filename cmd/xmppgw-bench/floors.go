package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"
)

// The floors are the server's own rates through a component, with the
// gateway stopped and a bare XEP-0114 component in its place that costs
// next to nothing: out, the senders' messages to contacts, which it only
// counts; in, messages to the receivers that it writes ready-made, in
// batches. They bound out_ratio and in_ratio on this machine: a gateway
// that cost nothing, with a provider that cost nothing, would reach them.

// bareComponent logs in to the server in use as the SMS component's domain
// and returns its connection, to be written raw. What the server sends is
// passed to read (nil: dropped) by a goroutine; stop closes the connection
// and waits for it.
func (e *env) bareComponent(ctx context.Context, read func([]byte)) (c net.Conn, stop func(), err error) {
	domain, secret := "", ""
	for _, t := range e.g.Config.Transports {
		if t.Name == "sms" {
			domain, secret = t.Domain, t.Secret
		}
	}
	if c, err = net.Dial("tcp", e.g.Server.Component()); err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := component.NewSession(ctx, jid.MustParse(domain), []byte(secret), c); err != nil {
		c.Close()
		return nil, nil, err
	}
	c.SetDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			if read != nil && k > 0 {
				read(buf[:k])
			}
			if err != nil {
				return
			}
		}
	}()
	return c, func() { c.Close(); <-done }, nil
}

// floorRates are one run's floors: the rates (msg/s) and the CPU a message
// (perMsg) of the bare component (floors.go) and of the relay that keeps
// nothing (relayfloor.go), out and in.
type floorRates struct {
	out, in, relayOut, relayIn             float64
	outCPU, inCPU, relayOutCPU, relayInCPU string
}

// floors stops the gateway, measures the floors with n messages each, and
// starts the gateway again.
func (e *env) floors(ctx context.Context, n, run int) (f floorRates, err error) {
	e.stopGateway()
	defer func() {
		if _, serr := e.startGateway(ctx, "config.yaml"); err == nil {
			err = serr
		}
	}()
	if f.out, f.outCPU, err = e.floorOut(ctx, n, run); err != nil {
		return f, fmt.Errorf("out floor: %w", err)
	}
	if f.in, f.inCPU, err = e.floorIn(ctx, n, run); err != nil {
		return f, fmt.Errorf("in floor: %w", err)
	}
	if f.relayOut, f.relayOutCPU, err = e.relayOut(ctx, n, run); err != nil {
		return f, fmt.Errorf("out relay floor: %w", err)
	}
	if f.relayIn, f.relayInCPU, err = e.relayIn(ctx, n, run); err != nil {
		return f, fmt.Errorf("in relay floor: %w", err)
	}
	return f, nil
}

// floorOut: the senders through the server to the bare component, which
// counts the bodies of the phase.
func (e *env) floorOut(ctx context.Context, n, run int) (float64, string, error) {
	prefix := e.prefix("fo", run)
	mark := []byte("<body>" + prefix)
	var got atomic.Int64
	var carry []byte // the end of the last read, which may hold part of a mark
	_, stop, err := e.bareComponent(ctx, func(b []byte) {
		data := append(carry, b...)
		got.Add(int64(bytes.Count(data, mark)))
		carry = append(carry[:0], data[max(0, len(data)-len(mark)+1):]...)
	})
	if err != nil {
		return 0, "", err
	}
	defer stop()
	s := e.sampleCPU()
	start := time.Now()
	if err := e.sendAll(ctx, n, prefix, func(_, k int) string { return remote(k) + "@sms.example.test" }); err != nil {
		return 0, "", err
	}
	for got.Load() < int64(n) {
		if ctx.Err() != nil {
			return 0, "", fmt.Errorf("the component got %d of %d: %w", got.Load(), n, ctx.Err())
		}
		time.Sleep(time.Millisecond)
	}
	rate := float64(n) / time.Since(start).Seconds()
	return rate, s.perMsg(e, n), nil
}

// floorIn: the bare component writes the stanzas the gateway would, in
// batches of 64, through the server to the receivers.
func (e *env) floorIn(ctx context.Context, n, run int) (float64, string, error) {
	c, stop, err := e.bareComponent(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer stop()
	prefix := e.prefix("fi", run)
	e.newPhase(prefix)
	s := e.sampleCPU()
	start := time.Now()
	var batch []byte
	for k := range n {
		id := fmt.Sprintf("%s%d", prefix, k)
		batch = fmt.Appendf(batch, `<message type="chat" id="%s" from="%s@sms.example.test" to="r%d@example.test"><body>%s</body><origin-id xmlns="urn:xmpp:sid:0" id="%s"></origin-id></message>`,
			id, remote(k), k%senders, id, id)
		if (k+1)%64 == 0 || k == n-1 {
			if _, err := c.Write(batch); err != nil {
				return 0, "", err
			}
			batch = batch[:0]
		}
	}
	if err := e.waitReceived(ctx, n); err != nil {
		return 0, "", err
	}
	return float64(n) / time.Since(start).Seconds(), s.perMsg(e, n), nil
}
