package diagnose

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Input is everything Diagnose looks at. Only Pod is required.
type Input struct {
	Pod *corev1.Pod
	// Container is the container (or init container) to explain; empty picks
	// the one that fails worst.
	Container string
	// Events of the pod and of its owners (ReplicaSet, Deployment, ...), in
	// any order.
	Events []corev1.Event
	// PreviousLog is the tail of the container's previous log;
	// PreviousLogErr says why there is none (no previous instance, logs
	// gone, forbidden), empty when the log was read.
	PreviousLog    string
	PreviousLogErr string
	// OwnerChain is the pod's owners, nearest first ("ReplicaSet/x",
	// "Deployment/y").
	OwnerChain []string
	// Deployment and ReplicaSets are the owning Deployment and its
	// ReplicaSets when known, for the probe patch target and the rollout
	// comparison.
	Deployment  *appsv1.Deployment
	ReplicaSets []appsv1.ReplicaSet
	// Job is the pod's owning Job when known: where it stands (attempts
	// left, failed, completed).
	Job *batchv1.Job
	// BackoffCap is the node's crashLoopBackOff.maxContainerRestartPeriod;
	// zero means the kubelet default of 5 minutes.
	BackoffCap time.Duration
	// Template is the recommended probe template; nil uses DefaultTemplate.
	Template *Template
	// Now is the time the report is made for (countdowns, ages).
	Now time.Time
}

// Report is the diagnosis of one container.
type Report struct {
	Pod      PodRef           `json:"pod"`
	Crashing bool             `json:"crashing"`
	State    string           `json:"state,omitempty"`
	Restarts int32            `json:"restarts"`
	Exit     *ExitExplanation `json:"exit,omitempty"`
	Backoff  *Timeline        `json:"backoff,omitempty"`
	Probes   ProbeReport      `json:"probes"`
	Log      LogSummary       `json:"log"`
	Events   []EventSummary   `json:"events,omitempty"`
	Findings []Finding        `json:"findings"`
	// wholePod: the container's own RestartAllContainers rule restarts
	// the pod on its last exit (wholepod.go); CAUSE says so.
	wholePod bool
}

// PodRef names the pod and container a report is about.
type PodRef struct {
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	Container  string   `json:"container"`
	Init       bool     `json:"init,omitempty"`
	Sidecar    bool     `json:"sidecar,omitempty"` // a native sidecar: an init container with restartPolicy Always
	Node       string   `json:"node,omitempty"`
	Owner      string   `json:"owner,omitempty"`
	OwnerChain []string `json:"ownerChain,omitempty"`
}

// Categories of findings, after seed 05's classification of causes.
const (
	CategoryApplication   = "application"
	CategoryResources     = "resources"
	CategoryConfiguration = "configuration"
	CategoryEnvironment   = "environment"
)

// Severities of findings; `lint` fails on SeverityError.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one judgement with the evidence it rests on and the fix.
type Finding struct {
	ID       string     `json:"id"`
	Category string     `json:"category"`
	Severity string     `json:"severity"`
	Verdict  string     `json:"verdict"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Fix      Fix        `json:"fix"`
	// cause marks a rollout finding whose changes touch the failing
	// container (see ranking).
	cause bool
}

// Evidence quotes what a finding rests on.
type Evidence struct {
	Kind   string `json:"kind"`   // event, status, probe, log, spec
	Source string `json:"source"` // e.g. "status.lastState.terminated.exitCode", "event Killing", "log line 12"
	Quote  string `json:"quote"`
}

// Fix is what to do, with a YAML patch where one applies.
type Fix struct {
	Text  string `json:"text"`
	Patch string `json:"patch,omitempty"`
}

// Finding ids.
const (
	FindingLivenessKill            = "liveness-kill"
	FindingStartupKill             = "startup-kill"
	FindingLivenessSharesReadiness = "probe-liveness-shares-readiness"
	FindingLivenessChecksDeps      = "probe-liveness-checks-dependencies"
	FindingNoStartupForSlowStart   = "probe-no-startup-for-slow-start"
	FindingLivenessBudgetShort     = "probe-liveness-budget-too-short"
	FindingProbeTimeoutTight       = "probe-timeout-too-tight"
	FindingLivenessNoReadiness     = "probe-liveness-without-readiness"
	FindingProbePortNotDeclared    = "probe-port-not-declared"
	FindingOOMKilled               = "oom-killed" // only when the termination reason is OOMKilled
	FindingAppOutOfMemory          = "app-out-of-memory"
	FindingAppErrorExit            = "app-error-exit"
	FindingCommandNotFound         = "command-not-found"
	FindingNotExecutable           = "not-executable"
	FindingSegfault                = "segfault"
	FindingAbort                   = "abort"
	FindingGracePeriodKill         = "grace-period-kill"
	FindingExitZeroUnderAlways     = "exit-zero-under-restart-always"
	FindingMissingFile             = "missing-file"
	FindingDependencyUnreachable   = "dependency-unreachable"
	FindingPermissionDenied        = "permission-denied"
	FindingConfigError             = "config-error"
	FindingConfigRefMissing        = "config-ref-missing"
	FindingMountFailed             = "mount-failed"
	FindingImagePullFailed         = "image-pull-failed"
	FindingPortInUse               = "port-in-use"
	FindingInitContainerFailing    = "init-container-failing"
	FindingBackoffNeverResets      = "backoff-never-resets"
	FindingRolloutRegression       = "rollout-regression"
	FindingExternalKill            = "external-kill"
	FindingNotCrashing             = "not-crashing"
	// Classes the log names (families.go).
	FindingDiskFull             = "disk-full"
	FindingFileHandlesExhausted = "file-handles-exhausted"
	FindingThreadsExhausted     = "threads-exhausted"
	FindingCredentialsRejected  = "credentials-rejected"
	FindingTLSRejected          = "tls-certificate-rejected"
	FindingAPIForbidden         = "api-forbidden"
	FindingDatabaseMissing      = "database-missing"
	FindingDependencyOverloaded = "dependency-overloaded"
	FindingImageIncompatible    = "image-incompatible"
	FindingMissingLibrary       = "missing-library"
	FindingScriptCRLF           = "script-windows-line-endings"
	FindingPrivilegedPort       = "privileged-port"
	FindingReadOnlyFS           = "read-only-filesystem"
	FindingCodeBug              = "code-bug"
	// FindingInitStuck: an init step runs on and on (waiting for something
	// that never comes), so the pod never starts.
	FindingInitStuck = "init-container-stuck"
	// FindingRestartRule: the container's own restart policy or rules, not
	// the pod's, decided what its last exit does (restartpolicy.go).
	FindingRestartRule = "restart-rule"
	// FindingSidecarCrash: the failing container is a native sidecar; what
	// its crash does to the pod.
	FindingSidecarCrash = "sidecar-crash"
	// FindingJobFailing: the pod is a Job's attempt; where the Job stands
	// (attempts left before backoffLimit, failed, completed since).
	FindingJobFailing = "job-failing"
	// FindingCauseUnknown: the container fails and nothing crashlens reads
	// names why; it says so instead of guessing.
	FindingCauseUnknown = "cause-unknown"
)
