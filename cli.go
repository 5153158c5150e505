package main

import "fmt"

// What every command shares: exit codes, the usage error, scope wording.

// Exit codes: scripts rely on them.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed (cluster unreachable, ...)
	exitUsage = 2 // bad flags or arguments
	exitCrash = 3 // list --fail-on-crash found crashing pods
)

// exitCodeError ends the program with a code and no message.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// usageError marks errors caused by what the user typed, answered with the
// usage text and exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// scopeText names what is watched, for messages and the status bar.
func scopeText(namespace string) string {
	if namespace == "" {
		return "all namespaces"
	}
	return "namespace " + namespace
}
