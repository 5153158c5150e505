// Package crash holds the values every screen and document reads: a crash
// group and the batches that carry them, the watcher's connection state,
// the view folded from the batches, and the incident gathered for one pod.
//
// It owns no I/O and no clock: kube/ fills these values from the API,
// ui/, report/ and alert/ only read them. A type belongs here when more
// than one of those packages names it; logic that decides whether or why a
// container fails belongs to diagnose/, not here.
package crash
