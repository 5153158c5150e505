package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// imageSpec describes a local image: an optional busybox userland plus files,
// packed as a docker-archive tar that `ctr images import` understands.
type imageSpec struct {
	Name       string
	Busybox    bool
	Files      map[string]string // path in image -> path on host
	Entrypoint []string
	Cmd        []string
	Env        []string
}

// fixedTime keeps image layers byte-identical across builds.
var fixedTime = time.Unix(0, 0)

func buildImage(spec imageSpec, w io.Writer) error {
	layer, err := buildLayer(spec)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	env := spec.Env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      fixedTime.UTC().Format(time.RFC3339),
		"config":       map[string]any{"Entrypoint": spec.Entrypoint, "Cmd": spec.Cmd, "Env": env, "WorkingDir": "/"},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return err
	}
	manifest, err := json.Marshal([]map[string]any{{
		"Config": "config.json", "RepoTags": []string{spec.Name}, "Layers": []string{"layer.tar"},
	}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, f := range []struct {
		name string
		data []byte
	}{{"config.json", config}, {"layer.tar", layer}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: fixedTime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func buildLayer(spec imageSpec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	mkdir := func(p string, mode int64) error {
		if p == "/" || p == "." || dirs[p] {
			return nil
		}
		dirs[p] = true
		return tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/") + "/", Mode: mode, Typeflag: tar.TypeDir, ModTime: fixedTime})
	}
	var mkdirAll func(p string) error
	mkdirAll = func(p string) error {
		if p == "/" || dirs[p] {
			return nil
		}
		if err := mkdirAll(path.Dir(p)); err != nil {
			return err
		}
		return mkdir(p, 0o755)
	}
	addFile := func(p string, data []byte, mode int64) error {
		if err := mkdirAll(path.Dir(p)); err != nil {
			return err
		}
		return writeEntry(tw, &tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: fixedTime}, data)
	}
	for _, d := range []string{"/etc", "/proc", "/sys", "/dev", "/var", "/run"} {
		if err := mkdirAll(d); err != nil {
			return nil, err
		}
	}
	if err := mkdir("/tmp", 0o1777); err != nil {
		return nil, err
	}
	if err := addFile("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"), 0o644); err != nil {
		return nil, err
	}
	if err := addFile("/etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644); err != nil {
		return nil, err
	}
	if spec.Busybox {
		bb, err := exec.LookPath("busybox")
		if err != nil {
			return nil, fmt.Errorf("busybox-static not installed: %w", err)
		}
		data, err := os.ReadFile(bb)
		if err != nil {
			return nil, err
		}
		if err := addFile("/bin/busybox", data, 0o755); err != nil {
			return nil, err
		}
		out, err := exec.Command(bb, "--list").Output()
		if err != nil {
			return nil, fmt.Errorf("busybox --list: %w", err)
		}
		for _, applet := range strings.Fields(string(out)) {
			if applet == "busybox" {
				continue
			}
			if err := writeEntry(tw, &tar.Header{Name: "bin/" + applet, Linkname: "/bin/busybox", Typeflag: tar.TypeSymlink, Mode: 0o777, ModTime: fixedTime}, nil); err != nil {
				return nil, err
			}
		}
	}
	dsts := make([]string, 0, len(spec.Files))
	for dst := range spec.Files {
		dsts = append(dsts, dst)
	}
	sort.Strings(dsts)
	for _, dst := range dsts {
		src := spec.Files[dst]
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if err := addFile(dst, data, int64(st.Mode().Perm())); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeEntry(tw *tar.Writer, h *tar.Header, data []byte) error {
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if len(data) > 0 {
		_, err := tw.Write(data)
		return err
	}
	return nil
}

// importImage builds spec and imports it into the cluster's containerd.
func importImage(l layout, spec imageSpec) error {
	f, err := os.CreateTemp(l.Data, "image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := buildImage(spec, f); err != nil {
		f.Close()
		return fmt.Errorf("build image %s: %w", spec.Name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctr(l, "images", "import", "--snapshotter", "overlayfs", f.Name()); err != nil {
		return fmt.Errorf("import image %s: %w", spec.Name, err)
	}
	return nil
}

func importBaseImages(l layout) error {
	if err := importImage(l, imageSpec{Name: pauseImage, Files: map[string]string{"/pause": l.bin("pause")}, Entrypoint: []string{"/pause"}}); err != nil {
		return err
	}
	return importImage(l, imageSpec{Name: busyboxImage, Busybox: true, Cmd: []string{"sh"}})
}

func ctr(l layout, args ...string) error {
	return run("ctr", append([]string{"--address", l.containerdSock(), "--namespace", "k8s.io"}, args...)...)
}

func httpOK(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
