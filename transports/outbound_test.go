package transports

import "testing"

func TestOutboundEmpty(t *testing.T) {
	tests := []struct {
		out   Outbound
		empty bool
	}{
		0: {Outbound{}, true},
		1: {Outbound{Body: " \n"}, true},
		2: {Outbound{Body: "", Replaces: "R1", ReplyTo: "R2", Quote: "q"}, true},
		3: {Outbound{Body: "x"}, false},
		4: {Outbound{Media: []string{"https://upload.example.com/a.png"}}, false},
		5: {Outbound{Retracts: "R1"}, false},
		6: {Outbound{ReactTo: "R1"}, false}, // no reactions: taken back
	}
	for i, tt := range tests {
		if got := tt.out.Empty(); got != tt.empty {
			t.Errorf("%d: Empty(%+v) = %v, want %v", i, tt.out, got, tt.empty)
		}
	}
}
