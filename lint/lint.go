// Package lint reads Kubernetes manifests (multi-document YAML, JSON,
// Lists, Helm output) and reports the probe findings of every workload's
// containers with file and line, for `crashlens lint` in CI.
package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/crashlens/crashlens/diagnose"
)

// MaxFileBytes bounds what lint reads of one file.
const MaxFileBytes = 16 << 20

// Result is one finding (or a problem reading the input) at a place.
type Result struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Object    string `json:"object,omitempty"` // Kind/name
	Container string `json:"container,omitempty"`
	ID        string `json:"id"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	Fix       string `json:"fix,omitempty"`
}

// Result ids that are not diagnose findings.
const (
	IDUnreadable  = "unreadable"   // not YAML or JSON
	IDNotWorkload = "not-workload" // an object without a pod template
)

// podSpecPaths are where each workload kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// IDTemplate marks a difference from the team's probe template (info).
const IDTemplate = "probe-template"

// Linter lints manifests; with a Template it also lists each container's
// differences from it.
type Linter struct {
	Template *diagnose.Template
}

// Paths lints files, directories (their .yaml, .yml and .json files,
// recursively) and "-" for standard input.
func (l Linter) Paths(paths []string, stdin io.Reader) ([]Result, error) {
	var out []Result
	for _, p := range paths {
		if p == "-" {
			b, err := io.ReadAll(io.LimitReader(stdin, MaxFileBytes))
			if err != nil {
				return nil, err
			}
			out = append(out, l.Source("<stdin>", b)...)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			b, err := readBounded(p)
			if err != nil {
				return nil, err
			}
			out = append(out, l.Source(p, b)...)
			continue
		}
		err = filepath.WalkDir(p, func(f string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(f)) {
			case ".yaml", ".yml", ".json":
				b, err := readBounded(f)
				if err != nil {
					return err
				}
				out = append(out, l.Source(f, b)...)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileBytes))
}

// Source lints one file's content.
func (l Linter) Source(file string, data []byte) (out []Result) {
	defer func() {
		if r := recover(); r != nil { // a parser panic must never take lint down
			out = append(out, Result{File: file, Line: 1, ID: IDUnreadable, Severity: diagnose.SeverityError, Message: fmt.Sprintf("cannot parse: %v", r)})
		}
	}()
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, Result{File: file, Line: errorLine(err), ID: IDUnreadable, Severity: diagnose.SeverityError,
				Message: "not valid YAML or JSON: " + err.Error()})
		}
		if len(doc.Content) == 0 {
			continue
		}
		out = append(out, l.object(file, doc.Content[0])...)
	}
}

func errorLine(err error) int {
	var n int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &n); e == nil {
		return n
	}
	return 1
}

func field(n *yamlv3.Node, key string) *yamlv3.Node {
	if n == nil || n.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// object lints one object (or each item of a List).
func (l Linter) object(file string, n *yamlv3.Node) []Result {
	if n.Kind != yamlv3.MappingNode {
		return []Result{{File: file, Line: n.Line, ID: IDUnreadable, Severity: diagnose.SeverityError, Message: "not a Kubernetes object (want a mapping with kind)"}}
	}
	kind := ""
	if k := field(n, "kind"); k != nil {
		kind = k.Value
	}
	name := ""
	if md := field(n, "metadata"); md != nil {
		if nm := field(md, "name"); nm != nil {
			name = nm.Value
		}
	}
	if strings.HasSuffix(kind, "List") {
		var out []Result
		if items := field(n, "items"); items != nil {
			for _, it := range items.Content {
				out = append(out, l.object(file, it)...)
			}
		}
		return out
	}
	path, ok := podSpecPaths[kind]
	if !ok {
		return []Result{{File: file, Line: n.Line, Object: kind + "/" + name, ID: IDNotWorkload, Severity: diagnose.SeverityInfo,
			Message: "skipped: not a workload with a pod template"}}
	}
	specNode := n
	for _, p := range path {
		specNode = field(specNode, p)
	}
	if specNode == nil {
		return []Result{{File: file, Line: n.Line, Object: kind + "/" + name, ID: IDUnreadable, Severity: diagnose.SeverityError, Message: "no pod spec at " + strings.Join(path, ".")}}
	}
	var spec corev1.PodSpec
	if err := decode(specNode, &spec); err != nil {
		return []Result{{File: file, Line: specNode.Line, Object: kind + "/" + name, ID: IDUnreadable, Severity: diagnose.SeverityError, Message: "pod spec: " + err.Error()}}
	}
	var out []Result
	containersNode := field(specNode, "containers")
	for i := range spec.Containers {
		c := &spec.Containers[i]
		line := specNode.Line
		if containersNode != nil && i < len(containersNode.Content) {
			line = containersNode.Content[i].Line
		}
		for _, f := range diagnose.LintContainer(c) {
			out = append(out, Result{File: file, Line: line, Object: kind + "/" + name, Container: c.Name, ID: f.ID, Severity: f.Severity, Message: f.Verdict, Fix: f.Fix.Text})
		}
		if l.Template != nil {
			for _, ch := range diagnose.ProbeChanges(&spec, c, l.Template) {
				out = append(out, Result{File: file, Line: line, Object: kind + "/" + name, Container: c.Name, ID: IDTemplate, Severity: diagnose.SeverityInfo,
					Message: fmt.Sprintf("template: %s %s %s -> %s (%s)", ch.Probe, ch.Field, ch.From, ch.To, ch.Reason)})
			}
		}
	}
	return out
}

func decode(n *yamlv3.Node, into any) error {
	raw, err := yamlv3.Marshal(n)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, into)
}

// HasErrors tells whether any result is at error severity.
func HasErrors(rs []Result) bool {
	for _, r := range rs {
		if r.Severity == diagnose.SeverityError {
			return true
		}
	}
	return false
}

// Text writes results as "file:line: severity id: message (object/container)".
func Text(w io.Writer, rs []Result) error {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].File != rs[j].File {
			return rs[i].File < rs[j].File
		}
		return rs[i].Line < rs[j].Line
	})
	for _, r := range rs {
		where := r.Object
		if r.Container != "" {
			where += " container " + r.Container
		}
		if _, err := fmt.Fprintf(w, "%s:%d: %s %s: %s (%s)\n", r.File, r.Line, r.Severity, r.ID, r.Message, where); err != nil {
			return err
		}
	}
	return nil
}

// LoadTemplate reads a team's probe template file (the --probe-template of
// `lint` and `explain`); an empty path means the built-in template (nil).
func LoadTemplate(path string) (*diagnose.Template, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := diagnose.LoadTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return t, nil
}
