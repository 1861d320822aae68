// Package amtest runs a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager) on a loopback port for tests, with one webhook
// receiver, and posts alerts to it and reads its silences through its API
// v2, as Prometheus and an operator would.
package amtest
