package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"time"
)

// apiClient is just enough of a Kubernetes client for `up` to wait on the
// apiserver and the node: this module stays free of client-go.
type apiClient struct {
	http  *http.Client
	base  string
	token string
}

var tokenRE = regexp.MustCompile(`(?m)^\s+token: (\S+)$`)

func newAPIClient(l layout, p pki) (*apiClient, error) {
	ca, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	kc, err := os.ReadFile(l.Kubeconfig())
	if err != nil {
		return nil, err
	}
	m := tokenRE.FindSubmatch(kc)
	if m == nil {
		return nil, fmt.Errorf("no token in %s", l.Kubeconfig())
	}
	return &apiClient{
		http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}},
		base:  l.apiserverURL(),
		token: string(m[1]),
	}, nil
}

func (c *apiClient) get(path string, into any) error {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(body, into)
}

func (c *apiClient) nodeReady() error {
	var node struct {
		Status struct {
			Conditions []struct{ Type, Status, Message string }
		}
	}
	if err := c.get("/api/v1/nodes/"+nodeName, &node); err != nil {
		return err
	}
	for _, cond := range node.Status.Conditions {
		if cond.Type == "Ready" {
			if cond.Status == "True" {
				return nil
			}
			return fmt.Errorf("node %s: %s", cond.Status, cond.Message)
		}
	}
	return errNotReady
}

// defaultServiceAccount waits for the controller-manager to create the
// default ServiceAccount and root CA ConfigMap, without which pods are
// rejected or stuck in ContainerCreating.
func (c *apiClient) defaultServiceAccount() error {
	if err := c.get("/api/v1/namespaces/default/serviceaccounts/default", nil); err != nil {
		return err
	}
	return c.get("/api/v1/namespaces/default/configmaps/kube-root-ca.crt", nil)
}
