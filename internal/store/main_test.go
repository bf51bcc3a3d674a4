package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a store left open keeps
// its connection pool running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
