// Package clusters connects crashlens to the clusters a command selects:
// the kubeconfig flags and contexts (one, a list or --all-contexts), a
// session per cluster (client, target, the scope the user may watch), the
// fleet that runs one watcher per cluster, a fleet of one for a single
// context (Open), and the one-shot snapshot of `list` (List).
//
// It owns connecting, retrying and routing a row's calls to its own
// cluster; it must not write anything (the capture's pipe does that,
// package capture) or print (the commands say what it returns).
package clusters
