// Package capture is the crash recorder: for each new termination the
// watcher reports, a bounded, rate-limited read of the instance's log and
// events, the rulebook's verdict (diagnose.Diagnose), and a crash ledger
// row; the verdict also refines the CAUSE of the group's batches (Pass),
// with or without a ledger.
//
// It is the only kube package that imports the ledger. The pure part (pod,
// events and log to a ledger row: Row) takes values and makes no call; the
// rest only fetches and hands over. It must not decide on its own what a
// crash means beyond what diagnose says.
package capture
