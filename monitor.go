package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/monitor"
)

// monitorLedger is the recorder's ledger file when --ledger is not given:
// the volume the manifests in deploy/ mount.
const monitorLedger = "/var/lib/crashlens/ledger.db"

func newMonitorCmd(flags *clusters.Flags, lf *ledgerFlags, stderr io.Writer) *cobra.Command {
	o := monitor.Options{Log: stderr}
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Record crashes headless, in the cluster: Prometheus metrics by cause, health checks, a history API",
		Long: `monitor is the in-cluster recorder: it watches what the flags select (in a
pod, the cluster it runs in, through its service account), captures every
termination (log tail, events, the rulebook's verdict) into the crash ledger
and serves on --listen:
  /metrics          terminations by killer, finding and category; crash-looping
                    containers by workload; the recorder's own health
  /healthz, /readyz ready once the first sync is done and the ledger is open
  /api/v1/history   the ledger's rows as crashlens history -o json prints them
                    (since, namespace, workload, pod, container, context, limit)
It never writes to the cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fleet, err := clusters.Open(cmd.Context(), flags, version)
			if err != nil {
				return err
			}
			if !lf.off {
				o.LedgerPath, o.Ledger = lf.path, lf.options()
				if o.LedgerPath == "" {
					o.LedgerPath = monitorLedger
				}
			}
			return monitor.Run(cmd.Context(), fleet, o)
		},
	}
	cmd.Flags().StringVar(&o.Listen, "listen", ":9090", "address of /metrics, /healthz, /readyz and /api/v1/history")
	return cmd
}
