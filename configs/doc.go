// Package configs loads and validates the gateway's YAML configuration.
//
// Parse reads the file into a yaml.Node tree, expands ${VAR} references from
// the environment ("$$" is a literal "$"), decodes the tree strictly (unknown
// keys, duplicate keys and type mismatches are all reported), decodes each
// transport's settings block into the settings type of its transport type,
// and validates everything. It reports every problem it finds at once, each
// with its file, line and dotted key path, for example
//
//	gw.yaml:12: transports[0].settings.numbers.alice@example.com: must start with +
//
// Problems quote the configuration text, never a value read from the
// environment, since such values are usually secrets.
//
// The commented example configuration is embedded as Example.
package configs
