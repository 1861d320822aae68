// Package backoff is the gateway's one retry delay: jittered exponential
// backoff as a pure function of the attempt number, because the attempts
// of a job are counted in the store and survive restarts (a stateful timer
// such as github.com/cenkalti/backoff's would start over), and Sleep, which
// waits for it or for the context.
package backoff
