// Package clustertest is the one harness of the tests that drive the real
// single-node cluster hack/cluster runs (the integration, fault and scale
// tests of the root package, kube, kube/podwatch, kube/clusters,
// kube/capture and demo), so that none of them keeps its own copy:
//
//   - kubeconfig.go: the admin and per-user kubeconfigs, REST configs and
//     clientsets, and where the checkout and the cluster's binaries are;
//   - kubectl.go: the cluster's kubectl (as admin) and clusterctl;
//   - scenarios.go: the demo catalogue applied and settled;
//   - tmux.go: a real terminal driven as a user drives it;
//   - audit.go: the apiserver's audit log, read back;
//   - proxy.go: a TCP proxy in front of the apiserver that a test breaks;
//   - buffer.go, poll.go: a buffer a child process and the test share, and
//     the one wait loop;
//   - procs.go: processes seen from /proc (pid, CPU, peak RSS), the live
//     heap, and work spread over workers;
//   - build.go: the crashlens binary under test;
//   - scale.go: the scale benchmarks' realistic pods and measurements.
//
// It is imported only by _test.go files, never by the program. It never
// skips: without a cluster (CRASHLENS_KUBECONFIG unset) a test fails and
// says to run it through `make test` (or `make bench`), as CI does. Of
// crashlens's packages it imports only demo and diagnose, never kube or
// its sub-packages, whose in-package tests import it (demo's tests are
// therefore an external package; a test that needs crashlens's own client
// passes kube.NewClientset to ClientsetAs). It takes a testing.TB and
// keeps no testing state of its own beyond ScenariosOnce's note that the
// catalogue is up.
package clustertest
