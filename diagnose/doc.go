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
//	              killer: application|oom-killer|liveness-probe|startup-probe|grace-period-sigkill|outside-sigkill|runtime|completed|pod-restart,
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
//
// # Reading the log: signatures and families
//
// ClassifyLog reads the previous log line by line against the signature
// catalogue (signatures.go): the words a runtime, library or server prints
// when it fails a known way, each citing where its wording comes from (the
// errno tables of glibc, musl and Go, the JVM, CPython, Node.js/V8, .NET
// and Go runtimes' fatal errors, the messages of PostgreSQL, MySQL, Redis,
// MongoDB, RabbitMQ, Kafka, nginx, AWS, the dynamic loaders and runc). A
// signature belongs to a family (families.go), and the family decides the
// finding, the category and the fix. One line is the log's cause
// (LogSummary.Cause, see outranks): an exhausted resource beats all that
// follows it, otherwise the last line that names a cause wins; a stack
// frame or a bare "error" line never does.
//
// # Categories follow the evidence
//
// A finding's category says whose move it is, and it is decided by what the
// evidence shows, not by the exit code:
//
//   - resources: something ran out. The kernel's OOM kill, a runtime that
//     could not get memory from the system, a full disk or quota (ENOSPC,
//     EDQUOT), exhausted file descriptors or inotify watches (EMFILE,
//     ENFILE), a thread or process limit (EAGAIN from pthread_create). A
//     runtime that hit a heap cap of its own (the JVM's -Xmx, Node.js's old
//     space) is application: the cap is the app's setting.
//   - configuration: what the pod was given is wrong. A rejected credential
//     or certificate, an RBAC refusal, a database name that does not exist,
//     a flag or setting the app rejects, a privileged port for a non-root
//     user, a path it may not write, an image built for another platform or
//     runtime, a missing ConfigMap or Secret. A file the app was told to
//     read and cannot find is configuration when the path is under one of
//     its volume mounts or names configuration (/etc/..., *.yaml, a key or
//     certificate: configPath); it is application when it is code that
//     should be in the image.
//   - environment: something outside the pod. A dependency that is down,
//     unreachable or unresolvable, or up but out of connections; a kill from
//     outside the kubelet.
//   - application: the code. A programming error the runtime names (a nil
//     dereference, an unhandled exception), a library or module missing
//     from the image, a script with Windows line endings, a crash no
//     evidence explains.
//
// A probe kill is configuration when a probe finding says the probe is
// wrong for the app (it shares readiness's endpoint, checks dependencies,
// has a budget shorter than the start or a timeout too tight), and
// application when the probe is sound and the app stopped answering it; the
// log's cause line, when there is one, says why (judgeProbeKill).
//
// # Order: causes before consequences
//
// Findings are ranked (rank.go): why it stopped or cannot start first, then
// how its probes are written, then history, then what follows from the stop
// (a back-off that never resets, a SIGTERM ignored). A failing container
// always has a first finding that says why it stopped, and when nothing
// crashlens reads names a class it knows, that finding says so ("Not a class
// of crash crashlens knows") and quotes the first error line instead of
// guessing. TestConsequencesNeverFirst and FuzzDiagnoseOrder hold this over
// generated statuses, events and logs.
package diagnose
