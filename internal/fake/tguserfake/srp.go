package tguserfake

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
)

// The server side of Telegram's SRP 2FA check
// (https://core.telegram.org/api/srp), with Telegram's own group.

// srpG is the generator Telegram uses.
const srpG = 3

// srpP is Telegram's 2048-bit safe prime.
var srpP = func() *big.Int {
	b, err := hex.DecodeString("" +
		"C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F" +
		"48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37" +
		"20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64" +
		"2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4" +
		"A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754" +
		"FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4" +
		"E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F" +
		"0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B")
	if err != nil {
		panic(err)
	}
	return new(big.Int).SetBytes(b)
}()

// pad256 is x big-endian in 256 bytes.
func pad256(x *big.Int) []byte {
	return x.FillBytes(make([]byte, 256))
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// srpX is x = PH2(password, salt1, salt2):
// SH(pbkdf2(sha512, PH1(password, salt1, salt2), salt1, 100000), salt2),
// with SH(data, salt) = H(salt | data | salt) and PH1 = SH(SH(password, salt1), salt2).
func srpX(password string, salt1, salt2 []byte) *big.Int {
	ph1 := sha(salt2, sha(salt1, []byte(password), salt1), salt2)
	key, err := pbkdf2.Key(sha512.New, string(ph1), salt1, 100000, 64)
	if err != nil {
		panic(err) // only for invalid parameters, which are constant here
	}
	return new(big.Int).SetBytes(sha(salt2, key, salt2))
}

// randBytes is n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randInt63 is a positive random int64.
func randInt63() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	v := int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	if v == 0 {
		v = 1
	}
	return v
}

// newSRPAccount derives the verifier v = g^x mod p of password with fresh
// salts (salt1 as Telegram keeps it after a password is set: 8 + 32 bytes).
func newSRPAccount(password string) *srpAccount {
	a := &srpAccount{salt1: randBytes(40), salt2: randBytes(16)}
	a.v = new(big.Int).Exp(big.NewInt(srpG), srpX(password, a.salt1, a.salt2), srpP)
	return a
}

// srpK is k = H(p | g), g padded to 256 bytes.
func srpK() *big.Int {
	return new(big.Int).SetBytes(sha(pad256(srpP), pad256(big.NewInt(srpG))))
}

// challenge starts a new check: a random b, B = (k*v + g^b) mod p and a
// new srp_id.
func (a *srpAccount) challenge() {
	for {
		a.b = new(big.Int).SetBytes(randBytes(256))
		gb := new(big.Int).Exp(big.NewInt(srpG), a.b, srpP)
		kv := new(big.Int).Mul(srpK(), a.v)
		B := kv.Add(kv, gb).Mod(kv, srpP)
		if B.Sign() > 0 {
			a.gb = pad256(B)
			break
		}
	}
	a.id = randInt63()
}

var errSRP = errors.New("srp: password check failed")

// verify checks the client's A and M1 against the current challenge:
// u = H(A | B), S = (A * v^u)^b mod p, K = H(S) and
// M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | K).
func (a *srpAccount) verify(gaBytes, m1 []byte) error {
	if a.b == nil || len(gaBytes) == 0 || len(gaBytes) > 256 {
		return errSRP
	}
	A := new(big.Int).SetBytes(gaBytes)
	pm1 := new(big.Int).Sub(srpP, big.NewInt(1))
	if A.Cmp(big.NewInt(1)) <= 0 || A.Cmp(pm1) >= 0 {
		return errSRP
	}
	ga := pad256(A)
	u := new(big.Int).SetBytes(sha(ga, a.gb))
	if u.Sign() == 0 {
		return errSRP
	}
	base := new(big.Int).Exp(a.v, u, srpP)
	base.Mul(base, A).Mod(base, srpP)
	S := new(big.Int).Exp(base, a.b, srpP)
	k := sha(pad256(S))

	hp := sha(pad256(srpP))
	hg := sha(pad256(big.NewInt(srpG)))
	x := make([]byte, len(hp))
	for i := range x {
		x[i] = hp[i] ^ hg[i]
	}
	want := sha(x, sha(a.salt1), sha(a.salt2), ga, a.gb, k)
	if subtle.ConstantTimeCompare(want, m1) != 1 {
		return errSRP
	}
	return nil
}
