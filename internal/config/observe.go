package config

// Log holds the RAM-only ring log and what goes to stderr.
type Log struct{}

// Admin holds the admin endpoint.
type Admin struct{}
