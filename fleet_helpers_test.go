//go:build integration || fault

package main

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tcpProxy forwards a local port to the real cluster's apiserver: a
// context through it is a second cluster the test can take down (every
// connection cut, new ones refused) and bring back on the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

// up listens on the proxy's address (the same one after a down).
func (p *tcpProxy) up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// down closes the listener and cuts every connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// fleetKubeconfig writes a kubeconfig of four contexts: "here" (the real
// cluster, as admin), "edge" (the same cluster through a proxy the test
// controls), "down" (a port that refuses connections) and "rejected" (the
// real cluster with a token it rejects). Its current context is "down", so
// anything that falls back to the current context fails.
func fleetKubeconfig(t *testing.T) (string, *tcpProxy) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(clusterKubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	real := cfg.Clusters[cur.Cluster]
	u, err := url.Parse(real.Server)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	out := clientcmdapi.NewConfig()
	out.AuthInfos["admin"] = cfg.AuthInfos[cur.AuthInfo]
	out.AuthInfos["bogus"] = &clientcmdapi.AuthInfo{Token: "crashlens-test-not-a-token"}
	for name, server := range map[string]string{"here": real.Server, "edge": "https://" + proxy.addr, "down": "https://127.0.0.1:1"} {
		c := real.DeepCopy()
		c.Server = server
		out.Clusters[name] = c
	}
	out.Clusters["rejected"] = real.DeepCopy()
	for name, user := range map[string]string{"here": "admin", "edge": "admin", "down": "admin", "rejected": "bogus"} {
		out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	}
	out.CurrentContext = "down"
	path := filepath.Join(t.TempDir(), "fleet-kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path, proxy
}
