package desk

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: Run's intake paths,
// processing and purge loops must all end with their context.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
