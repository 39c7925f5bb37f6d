package rwconfig

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them. The
// child process of TestHTTPClientAzureADEntraID is left out: its client gets
// Entra ID tokens through azidentity, whose HTTP connections (to the token
// endpoint, through the test's proxy) stay open in a pool this package cannot
// close, and the process exits right after the test anyway.
func TestMain(m *testing.M) {
	if os.Getenv(entraChildEnv) != "" {
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}
