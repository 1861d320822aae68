package sms

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Of the answer to a send, only the top-level sid is kept for twilio-go.
func TestTopLevelString(t *testing.T) {
	tests := []struct {
		doc  string
		want string // "" for none
	}{
		0: {`{"account_sid": "AC1", "sid": "SM123", "status": "queued"}`, `"SM123"`},
		1: {`{"subresource_uris": {"media": "/x", "sid": "MEnested"}, "tags": ["sid", {"sid": "no"}], "sid":"SM9"}`, `"SM9"`},
		2: {`{"body": "a \"sid\": \"fake\" inside", "sid": "SM\u0041"}`, `"SM\u0041"`},
		3: {`{"media": {"sid": "ME1"}}`, ``},
		4: {`{"sid": null}`, ``},
		5: {`{"sid": "unterminated`, ``},
		6: {`["sid", "SM1"]`, ``},
		7: {`{"price": null, "sid" : "SM7"}`, `"SM7"`},
		8: {`{"a": "\\", "sid": "SM8"}`, `"SM8"`},
	}
	for i, tt := range tests {
		got, ok := topLevelString([]byte(tt.doc), "sid")
		if string(got) != tt.want || ok != (tt.want != "") {
			t.Errorf("%d: %q, %v; want %q", i, got, ok, tt.want)
		}
	}
}

// onlySid leaves twilio-go the sid alone, whether the answer's length is
// known or not, and the error of an answer cut short.
func TestOnlySid(t *testing.T) {
	const doc = `{"account_sid": "AC1", "sid": "SM123", "status": "queued"}`
	tests := []struct {
		body    string
		length  int64
		want    string
		wantErr bool
	}{
		0: {doc, int64(len(doc)), `{"sid":"SM123"}`, false},
		1: {doc, -1, `{"sid":"SM123"}`, false},
		2: {`{"code": 21211}`, 15, `{"code": 21211}`, false},
		3: {doc[:20], int64(len(doc)), doc[:20], true},
	}
	for i, tt := range tests {
		resp := &http.Response{Body: io.NopCloser(strings.NewReader(tt.body)), ContentLength: tt.length}
		onlySid(resp)
		got, err := io.ReadAll(resp.Body)
		if string(got) != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%d: %q, %v; want %q, error %v", i, got, err, tt.want, tt.wantErr)
		}
	}
}
