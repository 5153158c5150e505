package diagnose

// ranking is the one order of findings, most likely cause first. A finding
// that explains why the container stopped, or why it cannot start, always
// comes before how the probes are written (the cause behind a probe kill,
// but never before the kill itself), rollout history that does not touch
// the failing container, and what follows from the stop (the back-off, a
// SIGTERM ignored at the kill). Within a tier the specific comes before the
// generic. A finding not listed ranks last.
var ranking = []string{
	// Why it cannot start: nothing else matters until these are fixed.
	FindingConfigRefMissing,
	FindingImagePullFailed,
	FindingMountFailed,
	FindingCommandNotFound,
	FindingNotExecutable,
	// Who ended the run: the kernel at the memory limit, the kubelet's probes.
	FindingOOMKilled,
	FindingLivenessKill,
	FindingStartupKill,
	// A rollout that changed the failing container is the cause behind the
	// crash it made (rolloutCause); one that did not ranks with history below.
	rolloutCause,
	// What the app ran into, as its log says (one of these at most: the
	// log's cause line, families.go), resources first.
	FindingAppOutOfMemory,
	FindingDiskFull,
	FindingFileHandlesExhausted,
	FindingThreadsExhausted,
	FindingImageIncompatible,
	FindingMissingLibrary,
	FindingScriptCRLF,
	FindingCredentialsRejected,
	FindingTLSRejected,
	FindingAPIForbidden,
	FindingDatabaseMissing,
	FindingDependencyOverloaded,
	FindingDependencyUnreachable,
	FindingMissingFile,
	FindingPermissionDenied,
	FindingReadOnlyFS,
	FindingPrivilegedPort,
	FindingPortInUse,
	FindingConfigError,
	FindingCodeBug,
	FindingSegfault,
	FindingAbort,
	FindingExitZeroUnderAlways,
	FindingExternalKill,
	// An init step that fails keeps the app from starting; its own cause
	// (above) comes first when the log names one.
	FindingInitContainerFailing,
	FindingInitStuck,
	// The app exited with a code and no line that says why; the container
	// fails and nothing says why.
	FindingAppErrorExit,
	FindingCauseUnknown,
	// How the probes are written: the cause behind a probe kill above.
	FindingLivenessSharesReadiness,
	FindingLivenessChecksDeps,
	FindingProbePortNotDeclared,
	FindingNoStartupForSlowStart,
	FindingLivenessBudgetShort,
	FindingProbeTimeoutTight,
	FindingLivenessNoReadiness,
	// History.
	FindingRolloutRegression,
	// What follows from the stop.
	FindingBackoffNeverResets,
	FindingGracePeriodKill,
	FindingRestartRule,
	FindingSidecarCrash,
	FindingJobFailing,
}

// rolloutCause is the ranking slot of a rollout finding whose changes touch
// the failing container.
const rolloutCause = "rollout-regression (cause)"

var rankIndex = func() map[string]int {
	m := make(map[string]int, len(ranking))
	for i, id := range ranking {
		m[id] = len(ranking) - i
	}
	return m
}()

// rankOf is a finding's place in ranking: higher comes first.
func rankOf(f Finding) int {
	id := f.ID
	if id == FindingRolloutRegression && f.cause {
		id = rolloutCause
	}
	return rankIndex[id]
}

// explainsStop: the finding says why the container stopped or cannot
// start, the tier every consequence ranks below (TestConsequencesNeverFirst
// holds every input to it).
func explainsStop(f Finding) bool {
	return rankOf(f) > rankIndex[FindingLivenessSharesReadiness]
}
