package demo

import (
	"os"
	"path/filepath"
)

// RecorderImage is the in-cluster recorder's image in the embedded
// cluster, built from the checkout (deploy/demo names it).
const RecorderImage = "crashlens.local/crashlens:dev"

// RecorderLedgerDir is the node's directory behind the demo recorder's
// PersistentVolume (deploy/demo/pv.yaml).
const RecorderLedgerDir = "/var/lib/crashlens-demo-ledger"

// RecorderPort is where the demo's recorder listens on the node (it
// shares the host's network there: deploy/demo says why).
const RecorderPort = 19090

// DeployRecorder builds crashlens as a static binary, imports it as
// RecorderImage (with busybox, for the demo's volume-owner step) and
// applies deploy/demo, waiting until the recorder is ready. It is separate
// from Up: the integration tests' cluster runs without a recorder, and
// the test of the recorder deploys and removes its own.
func DeployRecorder(o Options) error {
	dir, err := os.MkdirTemp("", "crashlens-recorder-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "crashlens")
	if err := o.buildStatic(".", bin, "-s -w -X main.version=recorder"); err != nil {
		return err
	}
	if err := o.runCmd(o.clusterBin("clusterctl"), "image", "--busybox", "--name", RecorderImage,
		"--file", "/crashlens="+bin, "--entrypoint", "/crashlens"); err != nil {
		return err
	}
	// A redeploy picks up the new image: the tag stays, the pod goes.
	if err := o.kubectl("", "apply", "-k", filepath.Join(o.Root, "deploy", "demo")); err != nil {
		return err
	}
	if err := o.kubectl("", "-n", "crashlens", "rollout", "restart", "deployment/crashlens-recorder"); err != nil {
		return err
	}
	return o.kubectl("", "-n", "crashlens", "rollout", "status", "deployment/crashlens-recorder", "--timeout=180s")
}

// RemoveRecorder deletes what DeployRecorder applied (the ledger's files
// stay on the node, in the hostPath volume).
func RemoveRecorder(o Options) error {
	return o.kubectl("", "delete", "-k", filepath.Join(o.Root, "deploy", "demo"), "--ignore-not-found", "--wait=true", "--timeout=120s")
}
