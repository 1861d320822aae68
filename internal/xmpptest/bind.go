package xmpptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

const nsBind = "urn:ietf:params:xml:ns:xmpp-bind"

// bindResource is resource binding that requests a given resource.
// mellium v0.23.0's BindResource sends an empty <resource/> (it writes the JID
// field instead of the resource), so the server always picks a random one.
func bindResource(resource string) xmpp.StreamFeature {
	return xmpp.StreamFeature{
		Name:       xml.Name{Space: nsBind, Local: "bind"},
		Necessary:  xmpp.Authn,
		Prohibited: xmpp.Ready,
		Parse: func(_ context.Context, d *xml.Decoder, _ *xml.StartElement) (bool, any, error) {
			return true, nil, d.Skip()
		},
		Negotiate: func(_ context.Context, session *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, error) {
			id := randomID()
			var res bytes.Buffer
			xml.EscapeText(&res, []byte(resource))
			toks, err := parseElement(fmt.Sprintf(
				`<iq xmlns='jabber:client' type='set' id='%s'><bind xmlns='%s'><resource>%s</resource></bind></iq>`,
				id, nsBind, res.String()))
			if err != nil {
				return 0, nil, err
			}
			w := session.TokenWriter()
			defer w.Close()
			if _, err := xmlstream.Copy(w, &sliceReader{toks: toks}); err != nil {
				return 0, nil, err
			}
			if err := w.Flush(); err != nil {
				return 0, nil, err
			}

			r := session.TokenReader()
			defer r.Close()
			d := xml.NewTokenDecoder(r)
			tok, err := d.Token()
			if err != nil {
				return 0, nil, err
			}
			start, ok := tok.(xml.StartElement)
			if !ok || start.Name.Local != "iq" {
				return 0, nil, fmt.Errorf("xmpptest: bind: unexpected %v", tok)
			}
			var resp struct {
				ID   string `xml:"id,attr"`
				Type string `xml:"type,attr"`
				Bind struct {
					JID string `xml:"jid"`
				} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
				Err *stanza.Error `xml:"error"`
			}
			if err := d.DecodeElement(&resp, &start); err != nil {
				return 0, nil, err
			}
			switch {
			case resp.ID != id:
				return 0, nil, fmt.Errorf("xmpptest: bind: answer to id %q, want %q", resp.ID, id)
			case resp.Type == "error" && resp.Err != nil:
				return 0, nil, fmt.Errorf("xmpptest: bind %q: %w", resource, *resp.Err)
			case resp.Type != "result":
				return 0, nil, fmt.Errorf("xmpptest: bind %q: answer of type %q", resource, resp.Type)
			}
			j, err := jid.Parse(resp.Bind.JID)
			if err != nil {
				return 0, nil, fmt.Errorf("xmpptest: bind: bad JID %q: %w", resp.Bind.JID, err)
			}
			session.UpdateAddr(j)
			return xmpp.Ready, nil, nil
		},
	}
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
