package lint

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Text writes results as "file:line: severity id: message (object/container)",
// sorted by place, then one line naming the kinds that were read by shape,
// so a reader of the CI log sees which CRDs lint took for workloads.
func Text(w io.Writer, rs []Result) error {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].File != rs[j].File {
			return rs[i].File < rs[j].File
		}
		return rs[i].Line < rs[j].Line
	})
	for _, r := range rs {
		where := r.Object
		switch {
		case r.Sidecar:
			where += " sidecar " + r.Container
		case r.Container != "":
			where += " container " + r.Container
		}
		if _, err := fmt.Fprintf(w, "%s:%d: %s %s: %s (%s)\n", r.File, r.Line, r.Severity, r.ID, r.Message, where); err != nil {
			return err
		}
	}
	if kinds := shapeKinds(rs); len(kinds) > 0 {
		_, err := fmt.Fprintf(w, "read by shape (pod template at %s): %s\n", strings.Join(shapePath, "."), strings.Join(kinds, ", "))
		return err
	}
	return nil
}

// shapeKinds are the kinds, sorted and once each, that were read by shape.
func shapeKinds(rs []Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if r.ID != IDReadByShape {
			continue
		}
		kind, _, _ := strings.Cut(r.Object, "/")
		if !seen[kind] {
			seen[kind] = true
			out = append(out, kind)
		}
	}
	sort.Strings(out)
	return out
}
