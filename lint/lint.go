package lint

import (
	"fmt"
	"io"
	"os"

	"github.com/crashlens/crashlens/diagnose"
)

// Result is one finding (or a problem reading the input) at a place.
type Result struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Object    string `json:"object,omitempty"` // Kind/name
	Container string `json:"container,omitempty"`
	Sidecar   bool   `json:"sidecar,omitempty"` // Container is a native sidecar (an initContainer with restartPolicy: Always)
	ID        string `json:"id"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	Fix       string `json:"fix,omitempty"`
}

// Result ids that are not diagnose findings.
const (
	IDUnreadable  = "unreadable"         // not YAML or JSON, or a pod spec of the wrong shape (error)
	IDNotWorkload = "not-workload"       // an object without a pod template (info)
	IDReadByShape = "read-by-shape"      // a kind lint does not know, read by its pod template (info)
	IDTemplate    = "probe-template"     // a difference from the team's probe template (info)
	IDPortNotTCP  = "probe-port-not-tcp" // a probe aimed at a port declared only as UDP or SCTP (error)
)

// Linter lints manifests; with a Template it also lists each container's
// differences from it.
type Linter struct {
	Template *diagnose.Template
}

// Paths lints files, directories (their .yaml, .yml and .json files,
// recursively) and "-" for stdin, as one input: a Service in one file
// counts for a Deployment in another.
func (l Linter) Paths(paths []string, stdin io.Reader) ([]Result, error) {
	var in []entry
	err := eachInput(paths, stdin, func(file string, data []byte, tooBig bool) {
		if tooBig {
			in = append(in, problem(Result{File: file, Line: 1, ID: IDUnreadable, Severity: diagnose.SeverityError,
				Message: fmt.Sprintf("larger than %d MiB: not linted", MaxFileBytes>>20)}))
			return
		}
		in = append(in, read(file, data)...)
	})
	if err != nil {
		return nil, err
	}
	return l.judgeAll(in), nil
}

// Source lints one file's content.
func (l Linter) Source(file string, data []byte) []Result {
	return l.judgeAll(read(file, data))
}

// judgeAll lints what was read, in input order, with the Services of the
// whole input at hand.
func (l Linter) judgeAll(in []entry) []Result {
	svcs := services(in)
	var out []Result
	for _, e := range in {
		if e.obj == nil {
			out = append(out, e.res)
			continue
		}
		out = append(out, l.lintObject(e.obj, svcs)...)
	}
	return out
}

// HasErrors tells whether any result is at error severity: what makes
// `crashlens lint` exit 1.
func HasErrors(rs []Result) bool {
	for _, r := range rs {
		if r.Severity == diagnose.SeverityError {
			return true
		}
	}
	return false
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
