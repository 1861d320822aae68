package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A benchmark that reports CPU a message is a ratio of CPU; one that does
// not, of wall time.
func TestMicroRatios(t *testing.T) {
	out := `goos: linux
BenchmarkOutMessage-2              	    3000	    154901 ns/op	     35830 cpu-ns/msg
BenchmarkOutMessage_Baseline-2     	    3000	     21464 ns/op	     17915 cpu-ns/msg
BenchmarkStanzaDecode-2            	    3000	      5314 ns/op
BenchmarkStanzaDecode_Baseline-2   	    3000	      2657 ns/op
BenchmarkLonely-2                  	    3000	      1000 ns/op
PASS
`
	path := filepath.Join(t.TempDir(), "micro.txt")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var b bench
	if err := b.microRatios(path); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"OutMessage", "2.00x", "", "CPU 35830 ns/msg vs 17915 (OutMessage_Baseline); wall 154901 ns/op vs 21464"},
		{"StanzaDecode", "2.00x", "", "5314 ns/op vs 2657 ns/op (StanzaDecode_Baseline)"},
	}
	if len(b.rows) != len(want) {
		t.Fatalf("rows %v, want %v", b.rows, want)
	}
	for i := range want {
		if b.rows[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, b.rows[i], want[i])
		}
	}
}
