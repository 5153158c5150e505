package clustertest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Tmux drives a real terminal: the real binary in a tmux session, keys
// sent as a user types them, the screen read back as the user sees it.
// The test starts the session (Run("new-session", "-d", "-s", Session,
// ...)) with its own size, directory and command, and kills it when done.
type Tmux struct {
	TB      testing.TB
	Session string
}

// Run runs a tmux command and returns its output; it fails the test when
// tmux fails.
func (x Tmux) Run(args ...string) string {
	x.TB.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	// A tmux server exits with its last session: a new session asked of a
	// server that is exiting (another test just killed its session) fails
	// with "server exited unexpectedly"; the next one starts a new server.
	for try := 0; err != nil && args[0] == "new-session" && strings.Contains(string(out), "server exited unexpectedly") && try < 5; try++ {
		time.Sleep(200 * time.Millisecond)
		out, err = exec.Command("tmux", args...).CombinedOutput()
	}
	if err != nil {
		x.TB.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// Keys sends keys to the session (tmux send-keys: key names, or "-l" then
// literal text).
func (x Tmux) Keys(keys ...string) { x.Run(append([]string{"send-keys", "-t", x.Session}, keys...)...) }

// Screen is what the session's pane shows now.
func (x Tmux) Screen() string { return x.Run("capture-pane", "-p", "-t", x.Session) }

// WaitFor polls the screen until it shows all of want, and returns it.
func (x Tmux) WaitFor(timeout time.Duration, want ...string) string {
	x.TB.Helper()
	var s string
	if !Poll(timeout, 200*time.Millisecond, func() bool { s = x.Screen(); return ContainsAll(s, want...) }) {
		x.TB.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	}
	return s
}

// WaitForLine polls until a screen line starts with prefix (a prompt, not
// other text that contains the same words), and returns the screen.
func (x Tmux) WaitForLine(timeout time.Duration, prefix string) string {
	x.TB.Helper()
	var s string
	starts := func() bool {
		s = x.Screen()
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	if !Poll(timeout, 200*time.Millisecond, starts) {
		x.TB.Fatalf("no screen line starts with %q; last screen:\n%s", prefix, s)
	}
	return s
}
