package xmpptest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"time"
)

// errUserExists is an in-band registration refused with <conflict/>.
var errUserExists = errors.New("xmpptest: the user exists")

// registerInBand creates user@domain with XEP-0077 in-band registration on
// the c2s listener at addr, without TLS. It takes milliseconds where an
// ejabberdctl command boots an Erlang VM. An existing user is errUserExists.
func registerInBand(ctx context.Context, addr, domain, user, password string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("xmpptest: in-band registration: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	if _, err := fmt.Fprintf(conn, `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>`, esc(domain)); err != nil {
		return fmt.Errorf("xmpptest: in-band registration: %w", err)
	}
	dec := xml.NewDecoder(conn)
	// <stream:stream ...>, then <stream:features>.
	next := func() (xml.StartElement, error) {
		for {
			tok, err := dec.Token()
			if err != nil {
				return xml.StartElement{}, err
			}
			if s, ok := tok.(xml.StartElement); ok {
				return s, nil
			}
		}
	}
	if s, err := next(); err != nil || s.Name.Local != "stream" {
		return fmt.Errorf("xmpptest: in-band registration: no stream (%v)", err)
	}
	s, err := next()
	if err != nil || s.Name.Local != "features" {
		return fmt.Errorf("xmpptest: in-band registration: no stream features (%v)", err)
	}
	var features struct {
		Register *struct{} `xml:"http://jabber.org/features/iq-register register"`
	}
	if err := dec.DecodeElement(&features, &s); err != nil {
		return fmt.Errorf("xmpptest: in-band registration: %w", err)
	}
	if features.Register == nil {
		return errors.New("xmpptest: in-band registration is not offered")
	}
	if _, err := fmt.Fprintf(conn, `<iq type='set' id='reg1'><query xmlns='jabber:iq:register'><username>%s</username><password>%s</password></query></iq>`,
		esc(user), esc(password)); err != nil {
		return fmt.Errorf("xmpptest: in-band registration: %w", err)
	}
	if s, err = next(); err != nil || s.Name.Local != "iq" {
		return fmt.Errorf("xmpptest: in-band registration: no answer (%v)", err)
	}
	var res struct {
		Type  string `xml:"type,attr"`
		Error *struct {
			Conflict *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-stanzas conflict"`
			Inner    []byte    `xml:",innerxml"`
		} `xml:"error"`
	}
	if err := dec.DecodeElement(&res, &s); err != nil {
		return fmt.Errorf("xmpptest: in-band registration: %w", err)
	}
	fmt.Fprint(conn, `</stream:stream>`)
	switch {
	case res.Type == "result":
		return nil
	case res.Error != nil && res.Error.Conflict != nil:
		return errUserExists
	case res.Error != nil:
		return fmt.Errorf("xmpptest: in-band registration of %s refused: %s", user, res.Error.Inner)
	}
	return fmt.Errorf("xmpptest: in-band registration of %s: answer of type %q", user, res.Type)
}
