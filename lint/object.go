package lint

import (
	"encoding/json"

	yamlv3 "go.yaml.in/yaml/v3"
)

// object is one Kubernetes object of the input. raw is its JSON, with YAML
// anchors, aliases and merge keys resolved: it is what lint judges. node is
// the YAML it came from, used only for line numbers; it may be nil (JSON
// YAML could not parse) or lack keys that came in through a merge, so every
// line falls back to the object's own.
type object struct {
	file, kind, apiVersion, name, namespace string
	line                                    int
	node                                    *yamlv3.Node
	raw                                     json.RawMessage
}

func newObject(file string, line int, node *yamlv3.Node, raw json.RawMessage) *object {
	return &object{file: file, line: line, node: node, raw: raw,
		kind: str(raw, "kind"), apiVersion: str(raw, "apiVersion"),
		name: str(raw, "metadata", "name"), namespace: str(raw, "metadata", "namespace")}
}

// ref is the object as results name it: Kind/name.
func (o *object) ref() string { return o.kind + "/" + o.name }

// lineAt is the line of the value at path, or the object's line.
func (o *object) lineAt(path ...string) int {
	if n := nodeAt(o.node, path...); n != nil && n.Line > 0 {
		return n.Line
	}
	return o.line
}

// itemLine is the line of the i-th element of the sequence at path, or the
// sequence's line.
func (o *object) itemLine(i int, path ...string) int {
	if n := nodeAt(o.node, path...); n != nil && n.Kind == yamlv3.SequenceNode && i < len(n.Content) {
		return n.Content[i].Line
	}
	return o.lineAt(path...)
}

// lookup walks the keys of nested JSON objects; ok is false when a key is
// missing or a step is not an object.
func lookup(raw json.RawMessage, path ...string) (json.RawMessage, bool) {
	for _, k := range path {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil, false
		}
		v, ok := m[k]
		if !ok {
			return nil, false
		}
		raw = v
	}
	return raw, true
}

// str is the string at path, or "" when there is none (a kind: 7 is no kind).
func str(raw json.RawMessage, path ...string) string {
	v, ok := lookup(raw, path...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// isJSONObject tells whether raw is a JSON object (what a Kubernetes object
// must be).
func isJSONObject(raw json.RawMessage) bool {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b == '{'
	}
	return false
}

// nodeAt follows mapping keys through aliases; nil when a key is missing.
func nodeAt(n *yamlv3.Node, path ...string) *yamlv3.Node {
	n = deref(n)
	for _, k := range path {
		if n == nil || n.Kind != yamlv3.MappingNode {
			return nil
		}
		var next *yamlv3.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = deref(n.Content[i+1])
			}
		}
		n = next
	}
	return n
}

// deref is the node an alias stands for (the anchored node, never itself an
// alias).
func deref(n *yamlv3.Node) *yamlv3.Node {
	if n != nil && n.Kind == yamlv3.AliasNode {
		return n.Alias
	}
	return n
}
