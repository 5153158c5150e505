// Package demo is the scenario catalogue: real workloads whose containers
// really fail the way the seed incidents did, the demo that runs them on the
// embedded cluster, and the checks that say each one reached its declared
// state. It is the project's ground truth, so it talks to the cluster with
// plain client-go and kubectl, independently of the kube package it tests.
package demo

import (
	"embed"
	"strings"
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
	// The accuracy classes: what triage most often gets wrong.
	oomApp("app-oom-jvm", "JVM heap exhausted: OutOfMemoryError, exit 1 (not an OOM kill)", "orders-jvm", "orders", 1, "java.lang.OutOfMemoryError: Java heap space"),
	oomApp("app-oom-node", "Node.js heap exhausted: abort, exit 134 (not an OOM kill)", "ui-ssr", "ssr", 134, "JavaScript heap out of memory"),
	oomApp("app-oom-go", "Go runtime out of memory: exit 2 (not an OOM kill)", "ingest-go", "ingest", 2, "fatal error: runtime: out of memory"),
	oomApp("app-oom-python", "Python MemoryError: exit 1 (not an OOM kill)", "etl-py", "etl", 1, "MemoryError"),
	oomApp("app-oom-dotnet", ".NET OutOfMemoryException: exit 134 (not an OOM kill)", "billing-dotnet", "billing", 134, "System.OutOfMemoryException"),
	{
		Name: "probe-kill-exit-zero", Title: "exec liveness times out; the app exits 0 from its SIGTERM handler",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/queue-drainer", Selector: "app=queue-drainer",
		Expect: Expect{Container: "drainer", MinRestarts: 1, ExitCode: code(0), Events: []EventMatch{livenessKill}, LogLine: "SIGTERM: finishing"},
	},
	{
		Name: "probe-kill-exit-handler", Title: "tcp liveness on a closed port; the app exits 2 from its SIGTERM handler",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/feed-relay", Selector: "app=feed-relay",
		Expect: Expect{Container: "relay", MinRestarts: 1, ExitCode: code(2), Events: []EventMatch{livenessKill}, LogLine: "SIGTERM: closing upstream feeds"},
	},
	{
		Name: "run-30s-exit", Title: "runs 30 s, then exits 1: the back-off never resets",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/leader-elector", Selector: "app=leader-elector",
		Expect: Expect{Container: "elector", MinRestarts: 2, ExitCode: code(1), LogLine: "lost lease"},
	},
	{
		Name: "run-45s-exit", Title: "runs 45 s, then exits 3: the back-off never resets",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/report-scheduler", Selector: "app=report-scheduler",
		Expect: Expect{Container: "scheduler", MinRestarts: 2, ExitCode: code(3), LogLine: "quarterly-sales failed"},
	},
	{
		Name: "missing-file-configmap", Title: "config.yaml is not in the ConfigMap mounted at /etc/orders",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/orders-reader", Selector: "app=orders-reader",
		Expect: Expect{Container: "reader", MinRestarts: 1, ExitCode: code(1), LogLine: "/etc/orders/config.yaml"},
	},
	{
		Name: "missing-file-secret", Title: "tls.key is not in the Secret mounted at /etc/tls",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/tls-proxy", Selector: "app=tls-proxy",
		Expect: Expect{Container: "proxy", MinRestarts: 1, ExitCode: code(1), LogLine: "/etc/tls/tls.key"},
	},
	{
		Name: "missing-file-image", Title: "a template the image does not ship",
		File: "15-accuracy.yaml", Namespace: "triage", Workload: "deploy/invoice-renderer", Selector: "app=invoice-renderer",
		Expect: Expect{Container: "renderer", MinRestarts: 1, ExitCode: code(1), LogLine: "/app/templates/invoice.tmpl"},
	},
	{
		Name: "outside-kill-2s", Title: "a watchdog SIGKILLs the app 2 s after each start",
		File: "16-accuracy-services.yaml", Namespace: "triage-svc", Workload: "deploy/quotes-api", Selector: "app=quotes-api",
		Expect: Expect{Container: "api", MinRestarts: 2, ExitCode: code(137), TerminatedReason: "Error"},
	},
	{
		Name: "outside-kill-20s", Title: "a watchdog SIGKILLs the app 20 s after each start",
		File: "16-accuracy-services.yaml", Namespace: "triage-svc", Workload: "deploy/pricing-api", Selector: "app=pricing-api",
		Expect: Expect{Container: "api", MinRestarts: 2, ExitCode: code(137), TerminatedReason: "Error"},
	},
	{
		Name: "healthy-shared-probes", Title: "healthy, liveness and readiness on one HTTP endpoint (by port name and by number): advice only",
		File: "16-accuracy-services.yaml", Namespace: "triage-svc", Workload: "deploy/session-cache", Selector: "app=session-cache",
		Expect: Expect{Container: "cache", Healthy: true},
	},
	{
		Name: "healthy-named-port-probes", Title: "healthy, one TCP probe by port name and one by number: the same probe",
		File: "16-accuracy-services.yaml", Namespace: "triage-svc", Workload: "deploy/kv-store", Selector: "app=kv-store",
		Expect: Expect{Container: "kv", Healthy: true},
	},
	// The diagnosis-breadth classes (17-breadth.yaml): one per family of
	// diagnose's signature catalogue that the scenarios above do not teach.
	breadth("disk-full", "a spool on a 1Mi tmpfs fills up: dd fails with ENOSPC, exit 1", "mail-spooler", "spooler", 1, "No space left on device"),
	breadth("file-handles", "ulimit -n 24, then a file per segment: EMFILE, exit 1", "segment-indexer", "indexer", 1, "Too many open files"),
	breadth("code-bug", "a Go nil pointer dereference on a guest checkout: panic, exit 2", "pricing-worker", "worker", 2, "nil pointer dereference"),
	breadth("tls-unknown-authority", "the secrets store's certificate is from a CA the client lacks: x509, exit 1", "payments-gateway", "gateway", 1, "certificate signed by unknown authority"),
	breadth("exec-format", "runc execs a script without #!: exec format error, exit 1", "nightly-export", "export", 1, "exec format error"),
	breadth("credentials-rejected", "PostgreSQL rejects the password: psycopg2 OperationalError, exit 1", "ledger-sync", "sync", 1, "password authentication failed"),
	breadth("missing-library", "ld.so cannot find libpoppler.so.126: exit 127", "pdf-renderer", "renderer", 127, "error while loading shared libraries"),
	breadth("threads-exhausted", "the Go runtime cannot create an OS thread (errno=11): exit 2", "fanout-router", "router", 2, "failed to create new OS thread"),
	breadth("database-missing", "migrations against a database that does not exist: exit 1", "catalog-migrate", "migrate", 1, `database "catalog" does not exist`),
	breadth("dependency-overloaded", "PostgreSQL has no connection slots left: HikariPool fails, exit 1", "report-api", "api", 1, "too many clients already"),
	breadth("api-forbidden", "the service account may not list pods: RBAC forbidden, exit 1", "pod-reaper", "reaper", 1, "is forbidden"),
	breadth("script-crlf", "an entrypoint saved with CRLF line endings: bad interpreter, exit 126", "billing-cron", "cron", 126, "bad interpreter"),
	breadth("privileged-port", "nginx as non-root binds port 80: permission denied, exit 1", "web-frontend", "nginx", 1, "(13: Permission denied)"),
	// Today's pod model (18-todays-kubernetes.yaml).
	{
		Name: "sidecar-crashloop", Title: "a native sidecar (log shipper) crash-loops on a refused port beside a healthy app",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "deploy/web-shipper", Selector: "app=web-shipper",
		Expect: Expect{Container: "log-shipper", MinRestarts: 1, ExitCode: code(1), LogLine: "connection refused"},
	},
	{
		Name: "restart-rule-retried", Title: "restartPolicy Never, a rule restarts exit 42 in place: a crash loop the rule makes",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "pod/batch-retry", Selector: "app=batch-retry",
		Expect: Expect{Container: "loader", MinRestarts: 1, ExitCode: code(42), LogLine: "exiting 42"},
	},
	{
		Name: "restart-rule-terminal", Title: "restartPolicy Never, exit 42 twice (restarted by the rule), then exit 1: ended for good",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "pod/batch-final", Selector: "app=batch-final",
		Expect: Expect{Container: "loader", MinRestarts: 2, ExitCode: code(1), LogLine: "schema version 7"},
	},
	{
		Name: "init-never-finishes", Title: "an init step waits for a database that never comes: Init:0/1, 0 restarts",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "pod/orders-api", Selector: "app=orders-api",
		Expect: Expect{Container: "wait-for-db", Init: true, LogLine: "waiting for the database proxy"},
	},
	{
		Name: "job-backoff-limit", Title: "a Job's attempts fail reading a missing manifest until backoffLimit 2: three failed pods, the Job Failed",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "job/invoice-import", Selector: "app=invoice-import",
		Expect: Expect{Container: "import", ExitCode: code(1), LogLine: "can't open '/etc/invoice-import/manifest.yaml'"},
	},
	{
		Name: "cronjob-runs-fail", Title: "a CronJob's every run fails writing to a read-only root filesystem",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "cronjob/usage-report", Selector: "app=usage-report",
		Expect: Expect{Container: "report", ExitCode: code(1), LogLine: "Read-only file system"},
	},
	{
		Name: "whole-pod-restart", Title: "exit 3 fires a RestartAllContainers rule: every container restarts in place, the exit only in the kubelet's placeholder",
		File: "18-todays-kubernetes.yaml", Namespace: "modern", Workload: "deploy/trainer", Selector: "app=trainer",
		Expect: Expect{Container: "trainer", MinRestarts: 1, TerminatedReason: "RestartingAllContainers", LogLine: "resuming from /shared/step-1200.ckpt"},
	},
}

// crashLoop makes the constructor of a file's scenarios that crash-loop
// with an exit code and a log line, one Deployment each.
func crashLoop(file, namespace string) func(name, title, deploy, container string, exit int32, line string) Scenario {
	return func(name, title, deploy, container string, exit int32, line string) Scenario {
		return Scenario{Name: name, Title: title, File: file, Namespace: namespace, Workload: "deploy/" + deploy,
			Selector: "app=" + deploy, Expect: Expect{Container: container, MinRestarts: 1, ExitCode: code(exit), LogLine: line}}
	}
}

// oomApp: a runtime reports running out of memory and exits by itself
// (15-accuracy.yaml); breadth: a class of the signature catalogue
// (17-breadth.yaml).
var (
	oomApp  = crashLoop("15-accuracy.yaml", "triage")
	breadth = crashLoop("17-breadth.yaml", "breadth")
)

// Owner is the scenario's workload as crashlens names it
// (diagnose.ResolveOwner): "Deployment/api", "Job/import",
// "CronJob/report", "Pod/batch".
func (s Scenario) Owner() string {
	kind, name, _ := strings.Cut(s.Workload, "/")
	switch kind {
	case "deploy":
		kind = "Deployment"
	case "job":
		kind = "Job"
	case "cronjob":
		kind = "CronJob"
	case "pod":
		kind = "Pod"
	}
	return kind + "/" + name
}

// ListedOnTheClock: the scenario is listed as crashing only once a bound
// of the rulebook's has passed since it started (an init step that never
// finishes, after diagnose's five minutes), so a test that runs right after
// the scenarios started cannot expect it either way.
func (s Scenario) ListedOnTheClock() bool {
	return s.Expect.Init && s.Expect.MinRestarts == 0 && s.Crashing()
}

// Crashing reports whether the scenario's pods are expected to be listed as
// crashing.
func (s Scenario) Crashing() bool {
	return !s.Expect.Healthy && !s.Expect.Succeeded
}
