package config

// DoH holds the optional DNS-over-HTTPS endpoint.
type DoH struct{}
