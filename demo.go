package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/crashlens/crashlens/demo"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// demoWait bounds how long `crashlens demo` waits for the scenarios: most
// get there in a minute; the chaos scenario's first kill takes 3-4.
const demoWait = 4 * time.Minute

func newDemoCmd(stderr io.Writer) *cobra.Command {
	var o demo.Options
	var down bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the scenario catalogue on the embedded single-node cluster (needs root and a source checkout)",
		Long: `demo builds what is missing, starts the embedded cluster (kubelet default
back-off, so the timeline is real), imports the scenario images, applies every
scenario of the catalogue and waits for each to reach its declared state.
The cluster stays up afterwards; crashlens demo --down removes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if o.Root, err = demo.FindRoot(wd); err != nil {
				return err
			}
			o.Progress, o.Recorder = stderr, true
			if down {
				return demo.Down(o)
			}
			kubeconfig, err := demo.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "==> waiting up to %s for the scenarios to reach their states\n", demoWait)
			pending := demo.Wait(cmd.Context(), cs, demo.Catalogue, demoWait, stderr)
			for name, missing := range pending {
				fmt.Fprintf(stderr, "    %-28s still on its way: %s\n", name, strings.Join(missing, "; "))
			}
			fmt.Fprintf(stderr, "\nThe demo cluster is up and stays up. Point crashlens or kubectl at it:\n  export KUBECONFIG=%s\n  bin/crashlens\nRemove it with: make demo-down (or crashlens demo --down)\n", kubeconfig)
			return nil
		},
	}
	cmd.Flags().BoolVar(&down, "down", false, "remove the demo cluster and undo its host changes")
	cmd.Flags().StringVar(&o.BackoffCap, "backoff-cap", "", "cap the kubelet back-off (e.g. 10s); default keeps the real 5m ceiling")
	cmd.Flags().BoolVar(&o.Fast, "fast", false, "kill the chaos scenario every 15-25 s instead of every 3-4 min")
	return cmd
}
