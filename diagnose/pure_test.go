package diagnose

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulebookIsPure: diagnose takes values and returns findings. It imports
// no client, no network and no os, and never reads the clock, so the list
// and the detail can call it with any time and get the same answer.
func TestRulebookIsPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"os", "os/exec", "net", "net/http", "k8s.io/client-go", "syscall"}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
		for _, clock := range []string{"time.Now(", "time.Since(", "time.Until(", "time.After(", "time.Tick("} {
			if strings.Contains(string(src), clock) {
				t.Errorf("%s reads the clock (%s)", name, clock)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
