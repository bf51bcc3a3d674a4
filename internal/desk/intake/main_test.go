package intake

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: a poller, watcher or
// SMTP connection left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
