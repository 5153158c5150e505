package kube

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Client settings: protobuf for the big pod lists (JSON as the fallback the
// server picks for anything without a protobuf form), and enough QPS for a
// detail screen's handful of parallel calls.
const (
	clientQPS   = 50
	clientBurst = 100
)

// NewClientset returns a clientset for cfg that speaks protobuf and names
// itself crashlens/<version>. Exec and OIDC auth plugins in the kubeconfig
// work because client-go runs them. cfg.Timeout (--request-timeout) bounds
// each request, and only the start of a watch or a log follow.
func NewClientset(cfg *rest.Config, version string) (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(ClientConfig(cfg, version))
}

// ClientConfig is cfg as every crashlens client uses it (see NewClientset).
func ClientConfig(cfg *rest.Config, version string) *rest.Config {
	c := rest.CopyConfig(cfg)
	timeout := c.Timeout
	c.Timeout = 0 // as http.Client.Timeout it would cut every watch
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &requestTransport{next: rt, timeout: timeout} })
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c.QPS, c.Burst = clientQPS, clientBurst
	c.UserAgent = UserAgent(version)
	return c
}

// UserAgent is how crashlens names itself to the API server (and in its
// audit log): crashlens/<version>.
func UserAgent(version string) string { return "crashlens/" + version }

// OneLine keeps the first line of an error message: client-go errors can
// carry multi-line explanations, and a url.Error quotes the whole request
// URL before its cause.
func OneLine(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
