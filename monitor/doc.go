// Package monitor is the in-cluster recorder's face (`crashlens monitor`):
// it runs the same fleet, capture and rulebook as the TUI, headless, with
// the crash ledger on a volume, and serves on one port the Prometheus
// metrics of terminations by cause (/metrics), its health (/healthz,
// /readyz) and a read-only history API (/api/v1/history) that answers
// with the documents `crashlens history -o json` prints.
//
// It owns the HTTP surface and the metrics' labels; it makes no API call
// of its own (kube/ does), decides nothing about why a container failed
// (diagnose/ does, through kube/capture) and never writes to the cluster.
package monitor
