// Package diagnose is crashlens's one rulebook: pure functions over
// k8s.io/api values that decide whether and why a container is failing. It
// makes no API calls and reads no clock; the caller passes the pod, its
// events, the tail of its previous log, what it knows of the owners and
// node, and "now".
//
// Classify (classify.go) turns a pod into the list's row: the container it
// blames, its state, its stable failure signature and its exit meaning, and
// when the verdict flips by the clock alone. Diagnose turns a pod and what
// the detail gathered into a Report; it picks the container, its state and
// exit meaning through the same rules, so the row and the detail agree by
// construction (TestRowAndDetailAgree runs every recording through both).
// The same Report serves the TUI, `crashlens explain` and `crashlens lint`.
//
// # Report JSON schema
//
// A Report marshals to JSON with these fields (absent when empty):
//
//	pod          {namespace, name, container, init, node, owner: "Deployment/api", ownerChain: ["ReplicaSet/api-5f..", "Deployment/api"]}
//	crashing     bool: the container is failing now
//	state        the state the list row shows: CrashLoopBackOff, OOMKilled, ImagePullBackOff,
//	             CreateContainerConfigError, ContainerCreating, Init:CrashLoopBackOff, Init:Error,
//	             Restarted (running again after a crash in the last 10 minutes), Running, Completed, ...
//	restarts     restart count of the container
//	exit         the last termination explained in context:
//	             {code, signal ("SIGKILL"), reason, message, startedAt, finishedAt, ranSeconds,
//	              killer: application|oom-killer|liveness-probe|startup-probe|grace-period-sigkill|outside-sigkill|runtime|completed,
//	              meaning (short), explanation (a sentence)}
//	backoff      the CrashLoopBackOff timeline:
//	             {restarts, delaySeconds, delaySource: waiting-message|estimated, capSeconds,
//	              nextRestart, nextRestartInSeconds, lastRunSeconds, resetWindowSeconds, willReset, explanation}
//	probes       {changes: [{probe, field, from, to, reason}], diff (unified YAML), patch (strategic merge YAML),
//	              patchCommand (kubectl patch ...), target ("Deployment/api")}
//	log          {empty, firstError: {line, text}, matches: [{line, kind, text, detail}]}
//	events       folded events, newest first: [{type, reason, object, message, count, first, last}]
//	findings     ranked, most likely cause first:
//	             [{id, category: application|resources|configuration|environment, severity: error|warning|info,
//	               verdict, evidence: [{kind: event|status|probe|log|spec, source, quote}], fix: {text, patch}}]
//
// Finding ids are stable; see the Finding* constants.
package diagnose
