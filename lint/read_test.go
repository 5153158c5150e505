package lint

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestRead: what the reader makes of each form of input, as "Kind/name@line"
// per object and "unreadable@line" per problem.
func TestRead(t *testing.T) {
	const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n"
	const podJSON = `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}}`
	tests := []struct {
		name, src string
		want      []string
	}{
		{"trailing ---", pod + "---\n", []string{"Pod/p@1"}},
		{"--- with a comment", pod + "--- # end of chart\n", []string{"Pod/p@1"}},
		{"Helm header of an empty template", "---\n# Source: c/templates/hpa.yaml\n---\n" + pod, []string{"Pod/p@4"}},
		{"only comments", "# Source: c/templates/a.yaml\n# nothing rendered\n", nil},
		{"only separators", "---\n---\n---\n", nil},
		{"empty", "", nil},
		{"explicit null document", "--- null\n---\n" + pod, []string{"Pod/p@3"}},
		{"anchor in metadata, alias in the spec", "kind: Pod\nmetadata: {name: &n web}\nspec: {containers: [{name: *n}]}\n", []string{"Pod/web@1"}},
		{"undefined alias", "kind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: *n}]}\n", []string{"unreadable@1"}}, // yaml.v3 names no line for an unknown anchor
		{"one JSON object", podJSON, []string{"Pod/p@1"}},
		{"JSON objects on one line", podJSON + podJSON, []string{"Pod/p@1", "Pod/p@1"}},
		{"JSON objects on lines", podJSON + "\n\n" + podJSON + "\n", []string{"Pod/p@1", "Pod/p@3"}},
		{"JSON List", `{"kind": "List", "items": [` + podJSON + ",\n" + podJSON + "]}", []string{"Pod/p@1", "Pod/p@2"}},
		{"JSON documents between ---", podJSON + "\n---\n" + podJSON + "\n", []string{"Pod/p@1", "Pod/p@3"}},
		{"YAML flow mapping that is not JSON", "{kind: Pod, metadata: {name: p}}\n", []string{"Pod/p@1"}},
		{"JSON then garbage", podJSON + "\n}\n", []string{"Pod/p@1", "unreadable@1"}}, // read as YAML, whose error names the document's line
		{"a JSON value that is no object", podJSON + "\n[1, 2]\n", []string{"Pod/p@1", "unreadable@2"}},
		{"alias bomb", aliasBomb(), []string{"unreadable@1"}},
		{"List item that is no object", "kind: List\nitems:\n- 7\n- " + podJSON + "\n", []string{"unreadable@3", "Pod/p@4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range read("in", []byte(tc.src)) {
				if e.obj == nil {
					got = append(got, e.res.ID+"@"+strconv.Itoa(e.res.Line))
					continue
				}
				got = append(got, e.obj.ref()+"@"+strconv.Itoa(e.obj.line))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("read %v, want %v", got, tc.want)
			}
		})
	}
}

// aliasBomb is a billion-laughs document: nine levels of nine aliases.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("kind: Pod\nmetadata: {name: x}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		prev := "*l" + strconv.Itoa(i-1)
		b.WriteString("l" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [" + strings.Repeat(prev+", ", 8) + prev + "]\n")
	}
	b.WriteString("spec: {containers: [{name: a}]}\n")
	return b.String()
}
