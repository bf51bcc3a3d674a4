package config

import (
	"fmt"

	yaml "go.yaml.in/yaml/v4"
)

// Marshal returns the effective configuration as YAML, starting with version: 1: what
// `sortie check` prints. Secrets print as [redacted], durations and addresses as text.
// Parse(Marshal(c)) gives c back, except for the secrets.
func (c *Config) Marshal() ([]byte, error) {
	b, err := yaml.Dump(c, yaml.WithIndent(2), yaml.WithLineWidth(-1), yaml.WithQuotePreference(yaml.QuoteDouble))
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return b, nil
}
