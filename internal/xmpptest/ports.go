package xmpptest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are picked below the Linux ephemeral range (32768-60999 by default),
// so the port of an outgoing connection can't take them between FreePort and
// the server binding them. Another process may still take one: StartProsody
// retries with new ports when Prosody reports that a port is in use.
const (
	portMin = 20000
	portMax = 32767
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// It is racy by nature: the caller must handle "address in use".
func FreePort() (int, error) {
	for range 50 {
		p := portMin + rand.IntN(portMax-portMin+1)
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			l.Close()
			return p, nil
		}
	}
	// Fall back to a port chosen by the kernel.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("xmpptest: no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePorts returns n distinct free ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}
