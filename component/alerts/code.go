package alerts

import (
	"crypto/rand"
	"math/big"
)

// codeAlphabet has no letters or digits that read alike (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// Code lengths: a group gets the shortest free code, of 2 characters while
// few groups are open.
const (
	MinCode = 2
	MaxCode = 6
)

// newCode returns a random code that is not in taken: of MinCode
// characters, longer only when several tries at a length found taken ones.
func newCode(taken map[string]bool) string {
	for n := MinCode; ; n++ {
		for range 8 {
			c := randomCode(n)
			if !taken[c] || n == MaxCode {
				return c
			}
		}
	}
}

func randomCode(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(codeAlphabet)))
	for i := range b {
		k, _ := rand.Int(rand.Reader, max)
		b[i] = codeAlphabet[k.Int64()]
	}
	return string(b)
}
