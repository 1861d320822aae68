package telegramuser

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strconv"

	"xmppgw/transports"
)

// Settings is the settings block of a "telegram-user" transport.
//
//	api_id: 12345                  # from https://my.telegram.org, "API development tools"
//	api_hash: 0123456789abcdef...  # from the same page
//	session_key: ${TG_SESSION_KEY} # encrypts the sessions in the store; at least 32 characters
//	server:                        # only for a test server: Telegram's test DCs, or a fake
//	  address: 127.0.0.1:4430
//	  dc: 2
//	  public_key: |
//	    -----BEGIN RSA PUBLIC KEY-----
//	    ...
type Settings struct {
	APIID      int     `yaml:"api_id"`
	APIHash    string  `yaml:"api_hash"`
	SessionKey string  `yaml:"session_key"`
	Server     *Server `yaml:"server"`
}

// Server is a non-production MTProto server to connect to.
type Server struct {
	Address   string `yaml:"address"`
	DC        int    `yaml:"dc"`
	PublicKey string `yaml:"public_key"`

	host string
	port int
	key  *rsa.PublicKey
}

// minSessionKey is the shortest session_key taken.
const minSessionKey = 32

// Validate implements transports.Settings.
func (s *Settings) Validate() []transports.Problem {
	var probs []transports.Problem
	bad := func(key, msg string) { probs = append(probs, transports.Problem{Key: key, Msg: msg}) }
	if s.APIID <= 0 {
		bad("api_id", "required: the api_id of your application at https://my.telegram.org")
	}
	if len(s.APIHash) != 32 {
		bad("api_hash", "required: the 32-character api_hash of your application at https://my.telegram.org")
	}
	if len(s.SessionKey) < minSessionKey {
		bad("session_key", "required: at least 32 characters, kept secret (for example ${TG_SESSION_KEY})")
	}
	if v := s.Server; v != nil {
		host, port, err := net.SplitHostPort(v.Address)
		p, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || p <= 0 || p > 65535:
			bad("server.address", "want HOST:PORT, got "+strconv.Quote(v.Address))
		default:
			v.host, v.port = host, p
		}
		if v.DC == 0 {
			v.DC = 2
		}
		if v.DC < 0 {
			bad("server.dc", "want a positive DC id")
		}
		key, err := parsePublicKey(v.PublicKey)
		if err != nil {
			bad("server.public_key", err.Error())
		}
		v.key = key
	}
	return probs
}

// parsePublicKey reads an RSA public key in PEM, PKCS#1 ("RSA PUBLIC KEY",
// as Telegram publishes them) or PKIX ("PUBLIC KEY").
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errPEM
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errPEM
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errPEM
	}
	return rk, nil
}

var errPEM = &settingsError{"want an RSA public key in PEM (-----BEGIN RSA PUBLIC KEY-----)"}

type settingsError struct{ msg string }

func (e *settingsError) Error() string { return e.msg }
