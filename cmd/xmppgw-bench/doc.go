// Command xmppgw-bench measures the gateway against the XMPP server it sits
// behind: a real Prosody, then a real ejabberd, on loopback, the gateway
// binary with its SQLite store, and in-process Twilio and Telegram fakes
// that answer at once. Each throughput is reported as a ratio to a baseline
// measured in the same run: the same c2s clients, through the same server,
// to other c2s clients. `make bench` runs it; it ends with one line per
// server:
//
//	BENCH out_ratio=R in_ratio=R cpu_us_per_msg=N p99_ms=N rss_mb=N pacing=R startup_ms=N
//	BENCH server=ejabberd out_ratio=R in_ratio=R cpu_us_per_msg=N p99_ms=N
//
// The first is Prosody's. Unless -floors=false, each server's floors are
// also measured (floors.go): its rates with a bare component in the
// gateway's place, which bound the ratios. -profile DIR writes CPU
// profiles of the gateway (XMPPGW_PPROF=1), and its allocations before and
// after, taken during the first out and in runs on each server.
package main
