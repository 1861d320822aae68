// Package transporttest provides a fake Transport for testing the gateway
// core without a provider.
package transporttest
