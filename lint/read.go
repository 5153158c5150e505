package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/crashlens/crashlens/diagnose"
)

// entry is what reading yields, in input order: an object to lint, or (obj
// nil) a result about the input itself.
type entry struct {
	obj *object
	res Result
}

func problem(r Result) entry { return entry{res: r} }

func unreadable(file string, line int, object, msg string) entry {
	return problem(Result{File: file, Line: line, Object: object, ID: IDUnreadable, Severity: diagnose.SeverityError, Message: msg})
}

// read splits one input into its objects, Lists expanded into their items.
// A stream of JSON values one after another is read as JSON; everything else
// (including one JSON object, or JSON documents separated by ---) as YAML.
func read(file string, data []byte) (out []entry) {
	defer func() {
		if r := recover(); r != nil { // a parser panic must never take lint down
			out = append(out, unreadable(file, 1, "", fmt.Sprintf("cannot parse: %v", r)))
		}
	}()
	if es, ok := readJSONStream(file, data); ok {
		return es
	}
	return readYAML(file, data)
}

// readYAML reads a multi-document YAML stream.
func readYAML(file string, data []byte) []entry {
	var out []entry
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var doc yamlv3.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, unreadable(file, errorLine(err), "", "not valid YAML or JSON: "+err.Error()))
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue // `---` alone, `--- # comment`, a Helm template that rendered to nothing
		}
		root := doc.Content[0]
		if root.Kind != yamlv3.MappingNode {
			out = append(out, unreadable(file, root.Line, "", "not a Kubernetes object (want a mapping with kind)"))
			continue
		}
		raw, err := documentJSON(&doc)
		if err != nil {
			out = append(out, unreadable(file, root.Line, "", "cannot read as an object: "+err.Error()))
			continue
		}
		out = append(out, objects(file, root.Line, root, raw)...)
	}
}

// isNull tells an empty document (YAML gives it a null scalar) from an object.
func isNull(n *yamlv3.Node) bool {
	return n.Kind == yamlv3.ScalarNode && n.Tag == "!!null"
}

// documentJSON converts a whole document, never a part of it: an alias in the
// pod spec may stand for an anchor in metadata.
func documentJSON(doc *yamlv3.Node) (json.RawMessage, error) {
	b, err := yamlv3.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return yaml.YAMLToJSON(b)
}

// readJSONStream reads input that is JSON values one after another; ok is
// false when it is not such a stream, and YAML (a superset of JSON) gets it.
func readJSONStream(file string, data []byte) ([]entry, bool) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var out []entry
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		start := int(dec.InputOffset()) - len(raw)
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		if !isJSONObject(raw) {
			out = append(out, unreadable(file, line, "", "not a Kubernetes object (want a mapping with kind)"))
			continue
		}
		out = append(out, objects(file, line, jsonNode(raw, line), raw)...)
	}
}

// jsonNode parses one JSON value as YAML for its line numbers, shifted to
// where the value starts in the stream; nil when YAML cannot parse it.
func jsonNode(raw json.RawMessage, line int) *yamlv3.Node {
	var doc yamlv3.Node
	if yamlv3.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var shift func(n *yamlv3.Node)
	shift = func(n *yamlv3.Node) {
		n.Line += line - 1
		for _, c := range n.Content {
			shift(c)
		}
	}
	shift(doc.Content[0])
	return doc.Content[0]
}

// objects is one object, or the items of a List (kind List or FooList), at
// any depth.
func objects(file string, line int, node *yamlv3.Node, raw json.RawMessage) []entry {
	o := newObject(file, line, node, raw)
	if !strings.HasSuffix(o.kind, "List") {
		return []entry{{obj: o}}
	}
	var items []json.RawMessage
	if v, ok := lookup(raw, "items"); ok {
		_ = json.Unmarshal(v, &items) // items that are not a list are no items
	}
	var out []entry
	for i, it := range items {
		itemLine := o.itemLine(i, "items")
		var itemNode *yamlv3.Node
		if n := nodeAt(node, "items"); n != nil && n.Kind == yamlv3.SequenceNode && i < len(n.Content) {
			itemNode = deref(n.Content[i])
		}
		if !isJSONObject(it) {
			out = append(out, unreadable(file, itemLine, "", "not a Kubernetes object (want a mapping with kind)"))
			continue
		}
		out = append(out, objects(file, itemLine, itemNode, it)...)
	}
	return out
}

func errorLine(err error) int {
	var n int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &n); e == nil {
		return n
	}
	return 1
}
