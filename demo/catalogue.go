// Package demo is the scenario catalogue: real workloads whose containers
// really fail the way the seed incidents did, the demo that runs them on the
// embedded cluster, and the checks that say each one reached its declared
// state. It is the project's ground truth, so it talks to the cluster with
// plain client-go and kubectl, independently of the kube package it tests.
package demo

import (
	"embed"
)

//go:embed scenarios/*.yaml
var manifests embed.FS

// Scenario is one incident reproduced on the cluster.
type Scenario struct {
	Name      string // stable id; also the folder of its recording in diagnose/testdata
	Title     string
	Seed      string // the seed write-up it reproduces, if any
	File      string // manifest in scenarios/, applied first
	Then      string // manifest applied once the first has rolled out (rollout regression)
	Namespace string
	Workload  string // kind/name, e.g. deploy/probe-mixup-bad
	Selector  string // label selector of its pods
	Expect    Expect
}

// Expect is what the cluster must show once a scenario has run.
type Expect struct {
	Container string // the container (or init container) that fails
	Init      bool
	// Reasons: any one of them in the container's waiting state, current
	// termination or last termination.
	Reasons          []string
	TerminatedReason string // of the last termination, e.g. OOMKilled
	ExitCode         *int32 // of the last termination
	MinRestarts      int32
	Events           []EventMatch // each must be among the pod's events
	LogLine          string       // in the previous (or else current) log
	NeverReady       bool         // failing before the pod was ever Ready
	// Healthy: every pod Ready with zero restarts. HealthyPods: besides the
	// failing pod, at least this many Ready pods with zero restarts.
	Healthy     bool
	HealthyPods int
	Succeeded   bool // a run-to-completion pod that finished
}

// EventMatch is an event reason and a substring of its message.
type EventMatch struct {
	Reason  string
	Message string
}

func code(c int32) *int32 { return &c }

var livenessKill = EventMatch{Reason: "Killing", Message: "failed liveness probe"}

// Catalogue is every scenario of design.md section 4.
var Catalogue = []Scenario{
	{
		Name: "probe-mixup-bad", Title: "liveness and readiness both on /readyz: killed while warming up", Seed: "01",
		File: "01-probe-mixup.yaml", Namespace: "gateway", Workload: "deploy/probe-mixup-bad", Selector: "app=probe-mixup-bad",
		Expect: Expect{Container: "app", MinRestarts: 1, NeverReady: true, ExitCode: code(137),
			Events:  []EventMatch{livenessKill, {Reason: "Unhealthy", Message: "Liveness probe failed: HTTP probe failed with statuscode: 503"}},
			LogLine: "warming up for 30s"},
	},
	{
		Name: "probe-mixup-good", Title: "seed 01's fix: startup probe, liveness on /healthz, readiness on /readyz", Seed: "01",
		File: "01-probe-mixup.yaml", Namespace: "gateway", Workload: "deploy/probe-mixup-good", Selector: "app=probe-mixup-good",
		Expect: Expect{Container: "app", Healthy: true},
	},
	{
		Name: "liveness-without-readiness", Title: "liveness without readiness: restarts while still receiving traffic", Seed: "02",
		File: "02-liveness-without-readiness.yaml", Namespace: "serving", Workload: "deploy/greeter", Selector: "app=greeter",
		Expect: Expect{Container: "user-container", MinRestarts: 1, Events: []EventMatch{livenessKill}, LogLine: "worker pool stalled"},
	},
	{
		Name: "missing-script", Title: "conversion script missing: exit 2", Seed: "03",
		File: "03-missing-script.yaml", Namespace: "demo-ng", Workload: "deploy/checkoutservice", Selector: "app=checkoutservice",
		Expect: Expect{Container: "checkoutservice", MinRestarts: 2, ExitCode: code(2), TerminatedReason: "Error",
			LogLine: "no such file or directory: /Users/my_user/bin/currency_script.sh"},
	},
	{
		Name: "oomkilled", Title: "allocates past its 48Mi limit: OOMKilled",
		File: "04-oomkilled.yaml", Namespace: "analytics", Workload: "deploy/report-builder", Selector: "app=report-builder",
		Expect: Expect{Container: "builder", MinRestarts: 1, ExitCode: code(137), TerminatedReason: "OOMKilled"},
	},
	{
		Name: "backoff-never-resets", Title: "killed every 3-4 minutes: back-off climbs to the cap and never resets", Seed: "04",
		File: "05-backoff-never-resets.yaml", Namespace: "cloud", Workload: "deploy/api", Selector: "test-app=test-app",
		Expect: Expect{Container: "app-tcb-api", MinRestarts: 1, ExitCode: code(137), TerminatedReason: "Error"},
	},
	{
		Name: "missing-configmap-key", Title: "env from a ConfigMap key that does not exist: CreateContainerConfigError",
		File: "06-config-errors.yaml", Namespace: "billing", Workload: "deploy/invoice-api", Selector: "app=invoice-api",
		Expect: Expect{Container: "api", Reasons: []string{"CreateContainerConfigError"},
			Events: []EventMatch{{Reason: "Failed", Message: "couldn't find key DATABASE_URL in ConfigMap billing/app-config"}}},
	},
	{
		Name: "missing-secret", Title: "env from a Secret that does not exist: CreateContainerConfigError",
		File: "06-config-errors.yaml", Namespace: "billing", Workload: "deploy/invoice-worker", Selector: "app=invoice-worker",
		Expect: Expect{Container: "worker", Reasons: []string{"CreateContainerConfigError"},
			Events: []EventMatch{{Reason: "Failed", Message: `secret "stripe-credentials" not found`}}},
	},
	{
		Name: "missing-volume", Title: "ConfigMap volume that does not exist: FailedMount, stuck creating",
		File: "06-config-errors.yaml", Namespace: "billing", Workload: "deploy/ledger", Selector: "app=ledger",
		Expect: Expect{Container: "ledger", Reasons: []string{"ContainerCreating"},
			Events: []EventMatch{{Reason: "FailedMount", Message: `configmap "ledger-rules" not found`}}},
	},
	{
		Name: "image-pull", Title: "registry does not answer: ErrImagePull / ImagePullBackOff",
		File: "07-image-pull.yaml", Namespace: "payments", Workload: "deploy/payments-api", Selector: "app=payments-api",
		Expect: Expect{Container: "api", Reasons: []string{"ErrImagePull", "ImagePullBackOff"},
			Events: []EventMatch{{Reason: "Failed", Message: "127.0.0.1:5999/payments/api:v2.3.1"}}},
	},
	{
		Name: "dependency-refused", Title: "database port refuses connections: exit 1",
		File: "08-dependencies.yaml", Namespace: "orders", Workload: "deploy/orders-api", Selector: "app=orders-api",
		Expect: Expect{Container: "api", MinRestarts: 1, ExitCode: code(1), LogLine: "connect: connection refused"},
	},
	{
		Name: "permission-denied", Title: "non-root user cannot write its state file: exit 1",
		File: "08-dependencies.yaml", Namespace: "orders", Workload: "deploy/orders-indexer", Selector: "app=orders-indexer",
		Expect: Expect{Container: "indexer", MinRestarts: 1, ExitCode: code(1), LogLine: "permission denied"},
	},
	{
		Name: "command-not-found", Title: "command not in the image: exit 127",
		File: "10-exit-codes.yaml", Namespace: "batch", Workload: "deploy/queue-worker", Selector: "app=queue-worker",
		Expect: Expect{Container: "worker", MinRestarts: 1, ExitCode: code(127), LogLine: "/app/bin/start-worker: not found"},
	},
	{
		Name: "not-executable", Title: "entrypoint script without its execute bit: exit 126",
		File: "10-exit-codes.yaml", Namespace: "batch", Workload: "deploy/report-runner", Selector: "app=report-runner",
		Expect: Expect{Container: "runner", MinRestarts: 1, ExitCode: code(126), LogLine: "/app/run.sh: Permission denied"},
	},
	{
		Name: "segfault", Title: "segmentation fault: exit 139",
		File: "10-exit-codes.yaml", Namespace: "batch", Workload: "deploy/thumbnailer", Selector: "app=thumbnailer",
		Expect: Expect{Container: "thumbnailer", MinRestarts: 1, ExitCode: code(139), LogLine: "decoding image batch"},
	},
	{
		Name: "sigterm-ignored", Title: "PID 1 ignores SIGTERM after a liveness kill: SIGKILL at the end of the grace period, exit 137",
		File: "10-exit-codes.yaml", Namespace: "batch", Workload: "deploy/soap-bridge", Selector: "app=soap-bridge",
		Expect: Expect{Container: "bridge", MinRestarts: 1, ExitCode: code(137), Events: []EventMatch{livenessKill},
			LogLine: "health file removed"},
	},
	{
		Name: "init-crashloop", Title: "migration init container fails: Init:CrashLoopBackOff",
		File: "11-init-crashloop.yaml", Namespace: "catalog", Workload: "deploy/catalog-api", Selector: "app=catalog-api",
		Expect: Expect{Container: "db-migrate", Init: true, MinRestarts: 1, ExitCode: code(1),
			LogLine: `relation "products" does not exist`},
	},
	{
		Name: "exit-zero", Title: "one-shot task under restartPolicy Always: Completed, then back-off",
		File: "12-exit-zero.yaml", Namespace: "jobs", Workload: "deploy/cache-warmer", Selector: "app=cache-warmer",
		Expect: Expect{Container: "warmer", MinRestarts: 1, ExitCode: code(0), TerminatedReason: "Completed", LogLine: "cache warmed"},
	},
	{
		Name: "rollout-regression", Title: "v2 rollout crashes while v1 keeps serving",
		File: "13-rollout-regression.yaml", Then: "13-rollout-regression.v2.yaml",
		Namespace: "search", Workload: "deploy/search-api", Selector: "app=search-api",
		Expect: Expect{Container: "api", MinRestarts: 1, ExitCode: code(2), HealthyPods: 2,
			LogLine: "flag provided but not defined: -listen-addr"},
	},
	{
		Name: "healthy", Title: "healthy web service: never listed",
		File: "14-healthy.yaml", Namespace: "storefront", Workload: "deploy/web", Selector: "app=web",
		Expect: Expect{Container: "web", Healthy: true},
	},
	{
		Name: "healthy-job", Title: "finished Job: never listed",
		File: "14-healthy.yaml", Namespace: "storefront", Workload: "job/nightly-backup", Selector: "job=nightly-backup",
		Expect: Expect{Container: "backup", Succeeded: true},
	},
}

// Crashing reports whether the scenario's pods are expected to be listed as
// crashing.
func (s Scenario) Crashing() bool {
	return !s.Expect.Healthy && !s.Expect.Succeeded
}
