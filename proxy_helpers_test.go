//go:build fault

package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// apiServerAddr is where hack/cluster's kube-apiserver listens.
const apiServerAddr = "127.0.0.1:16443"

// apiProxy is a TCP proxy in front of the kube-apiserver that a test can
// cut (refuse and drop every connection) or stall (accept and forward
// nothing), the two ways a network to a cluster fails.
type apiProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	mode  string // pass, cut, stall
	conns map[net.Conn]bool
	wake  chan struct{} // closed when the mode leaves stall
}

func startProxy(t *testing.T) *apiProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{ln: ln, mode: "pass", conns: map[net.Conn]bool{}, wake: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); p.set("cut") })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *apiProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.mode == "cut" {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = true
	p.mu.Unlock()
	up, err := net.Dial("tcp", apiServerAddr)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = true
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, holding every chunk while the proxy stalls.
func (p *apiProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			mode, wake := p.mode, p.wake
			p.mu.Unlock()
			if mode == "stall" {
				<-wake
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// set switches the mode; leaving stall or entering cut drops every
// connection (a recovered network's load balancer forgot them).
func (p *apiProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "stall" && mode != "stall" {
		close(p.wake)
	}
	if mode == "stall" && p.mode != "stall" {
		p.wake = make(chan struct{})
	}
	if mode == "cut" || p.mode == "stall" {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
	p.mode = mode
}

// kubeconfig writes a copy of the admin kubeconfig that goes through p.
func (p *apiProxy) kubeconfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(clusterKubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("https://"+apiServerAddr)) {
		t.Fatalf("the admin kubeconfig does not point at %s", apiServerAddr)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig-proxy")
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte("https://"+apiServerAddr), []byte("https://"+p.ln.Addr().String())), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
