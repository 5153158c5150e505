package clustertest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// APIServerAddr is where hack/cluster's kube-apiserver listens.
const APIServerAddr = "127.0.0.1:16443"

// Proxy is a TCP proxy in front of the kube-apiserver that a test can cut
// (refuse and drop every connection) or stall (accept and forward
// nothing), the two ways a network to a cluster fails, without touching
// the cluster other tests use.
type Proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	mode  string // pass, cut, stall
	conns map[net.Conn]bool
	wake  chan struct{} // closed when the mode leaves stall
}

// StartProxy starts a proxy that passes everything through; it is cut and
// closed when the test ends.
func StartProxy(tb testing.TB) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, mode: "pass", conns: map[net.Conn]bool{}, wake: make(chan struct{})}
	tb.Cleanup(func() { ln.Close(); p.Set("cut") })
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

func (p *Proxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.mode == "cut" {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = true
	p.mu.Unlock()
	up, err := net.Dial("tcp", APIServerAddr)
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
func (p *Proxy) pipe(dst, src net.Conn) {
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

// Set switches the mode: "pass", "cut" or "stall". Leaving stall or
// entering cut drops every connection (a recovered network's load
// balancer forgot them).
func (p *Proxy) Set(mode string) {
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

// Kubeconfig writes a copy of the admin kubeconfig that goes through p.
func (p *Proxy) Kubeconfig(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(Kubeconfig(tb, "admin"))
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(b, []byte("https://"+APIServerAddr)) {
		tb.Fatalf("the admin kubeconfig does not point at %s", APIServerAddr)
	}
	path := filepath.Join(tb.TempDir(), "kubeconfig-proxy")
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte("https://"+APIServerAddr), []byte("https://"+p.ln.Addr().String())), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
