// Package lint reads Kubernetes manifests and reports the probe findings of
// every workload's containers with file and line, for `crashlens lint` in CI.
//
// # Reading
//
// Input is what teams really feed a CI gate: multi-document YAML, Helm and
// kustomize output, JSON (one object, a List, or several objects one after
// another as `kubectl get -o json` loops write them). Empty and comment-only
// documents (a trailing `---`, `--- # comment`, Helm's `# Source:` header of
// a template that renders to nothing) are not objects and are skipped
// silently. Each document is converted to JSON whole, so YAML anchors and
// merge keys defined anywhere in it resolve; the YAML nodes are kept only
// for line numbers.
//
// The built-in workload kinds are found by kind. Any other object whose
// spec.template.spec.containers is a list (OpenShift DeploymentConfig, Argo
// Rollout, Knative Service, any CRD) is read by shape, and an info result
// says so. Containers and native sidecars (initContainers with
// restartPolicy: Always) are linted; plain init containers have no probes.
//
// # Judging
//
// The rules are diagnose's (LintContainer), the same the detail pane and
// `explain` apply, so a manifest and its running pod get the same findings.
// Without a running pod there is less evidence, so lint re-rates two of them
// (policy.go) and adds the port checks diagnose does not make (ports.go):
//
//   - identical liveness and readiness probes are an error only when the
//     probe checks readiness or dependencies (an HTTP path such as /ready or
//     /health/db, a readiness file or URL in an exec command, a gRPC health
//     service named for readiness, another host); otherwise a warning;
//   - liveness without readiness is a warning, and none at all for
//     run-to-completion pods (Jobs, CronJobs, restartPolicy Never or
//     OnFailure); its text names the Services of the input that select the
//     pod, or says that the risk holds only if one does;
//   - a probe aimed at a port declared only as UDP or SCTP cannot succeed
//     (error); a gRPC probe's port is checked against the declared ports
//     like httpGet's and tcpSocket's; an undeclared named port is shown by
//     its name.
//
// POLICY.md lists every finding with its severity and why. `crashlens lint`
// exits 1 when any result is at error severity: a probe that cannot succeed
// or that restarts healthy containers, or input that could not be read.
// Warnings and info never fail the run.
package lint
