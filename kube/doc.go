// Package kube owns the calls crashlens makes to a Kubernetes API server
// for one pod or one group: events (the pod's and its owners'), bounded
// log reads, the owner chain, the node's back-off cap, metrics, the
// gathered incident of the detail screen, the kubectl command lines of the
// UI's jumps, and the client plumbing every sub-package shares (the
// request transport, the debug log).
//
// Its sub-packages hold the other jobs that talk to the API: podwatch (the
// live watcher and its wire decoder), clusters (kubeconfig contexts,
// sessions, the fleet) and capture (the crash recorder). kube and its
// sub-packages hand the rest of the program small value types (package
// crash), never informer-cache pointers. None of them decides whether or
// why a container fails (that is diagnose/), and only capture imports the
// crash ledger.
package kube
