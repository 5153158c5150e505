// Package podwatch is the live crash watcher: a list-then-watch of pods
// through a decoder that keeps only what the rulebook reads (slimpod.go),
// folded into crash groups and delivered in batches (crash.Batch) at most
// every BatchInterval, with the connection's state.
//
// It owns the watch and its memory at 150k pods; it must not make
// per-pod calls (events, logs: package kube), open sessions (clusters) or
// decide why a container fails (it asks diagnose.CrashPods).
package podwatch
