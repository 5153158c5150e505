package clustertest

import (
	"strings"
	"testing"
	"time"
)

// Poll calls check every interval until it reports true or timeout has
// passed, and says whether it did: the one wait loop of these tests (a
// real cluster answers when it answers; a fixed sleep is either flaky or
// slow).
func Poll(timeout, interval time.Duration, check func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(interval) {
		if check() {
			return true
		}
	}
	return false
}

// ContainsAll reports whether s contains every one of want.
func ContainsAll(s string, want ...string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// WaitForText polls a child's output until it shows all of want, and
// fails the test with the output when it never does.
func WaitForText(tb testing.TB, b *Buffer, timeout time.Duration, want ...string) {
	tb.Helper()
	if !Poll(timeout, 200*time.Millisecond, func() bool { return ContainsAll(b.String(), want...) }) {
		tb.Fatalf("output never showed %q:\n%s", want, b.String())
	}
}
