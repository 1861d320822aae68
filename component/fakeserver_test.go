package component

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a minimal XEP-0114 server on loopback, to run the real
// Gateway.Run against: it accepts one component (any secret), answers the
// writer's pings, records the other stanzas the component writes, and
// writes what the test sends on in.
type fakeServer struct {
	addr string
	in   chan string   // stanzas to write to the component
	done chan struct{} // closed when the component's stream has ended

	mu  sync.Mutex
	got []string
}

func startFakeServer(t *testing.T, domain string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeServer{addr: ln.Addr().String(), in: make(chan string, 100), done: make(chan struct{})}
	go f.serve(ln, domain)
	return f
}

// serve serves the first connection to ln.
func (f *fakeServer) serve(ln net.Listener, domain string) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	defer close(f.done)
	var wmu sync.Mutex
	write := func(s string) { wmu.Lock(); io.WriteString(c, s); wmu.Unlock() }
	d := xml.NewDecoder(c)
	if !skipTo(d, "stream") {
		return
	}
	write(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='` + domain + `'>`)
	if !skipTo(d, "handshake") {
		return
	}
	d.Skip()
	write(`<handshake/>`)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case s := <-f.in:
				write(s)
			case <-stop:
				return
			}
		}
	}()
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		switch se := tok.(type) {
		case xml.EndElement: // the component's </stream:stream>
			write(`</stream:stream>`)
			return
		case xml.StartElement:
			var raw struct {
				Attrs []xml.Attr `xml:",any,attr"`
				Inner string     `xml:",innerxml"`
			}
			if err := d.DecodeElement(&raw, &se); err != nil {
				return
			}
			attr := map[string]string{}
			for _, a := range raw.Attrs {
				attr[a.Name.Local] = a.Value
			}
			if se.Name.Local == "iq" && strings.Contains(raw.Inner, "urn:xmpp:ping") && attr["to"] == domain {
				write(fmt.Sprintf(`<iq type='result' id='%s' from='%s' to='%s'/>`, attr["id"], domain, domain))
				continue
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "<%s", se.Name.Local)
			for _, k := range []string{"type", "id", "from", "to"} {
				if v, ok := attr[k]; ok {
					fmt.Fprintf(&b, ` %s="%s"`, k, v)
				}
			}
			fmt.Fprintf(&b, ">%s</%s>", raw.Inner, se.Name.Local)
			f.mu.Lock()
			f.got = append(f.got, b.String())
			f.mu.Unlock()
		}
	}
}

// skipTo reads d up to the start of an element named local.
func skipTo(d *xml.Decoder, local string) bool {
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			return true
		}
	}
}

// written returns the stanzas the component wrote but pings, in order,
// with their attributes type, id, from and to in that order.
func (f *fakeServer) written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}
