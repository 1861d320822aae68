// Package quietlog keeps what outsiders can make the gateway log from
// flooding the log: a refused webhook, say, is logged at most once a
// minute for each message, and the next record says how many were
// dropped since the last one.
package quietlog
