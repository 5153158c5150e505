package diagnose

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strings"
)

// Bounds on what the classifier reads: logs are attacker-controlled text.
const (
	MaxLogLines     = 2000
	MaxLogLineBytes = 4096
	maxLogMatches   = 50
)

// Log line kinds the classifier recognises.
const (
	LogOOM              = "oom"
	LogPermissionDenied = "permission-denied"
	LogReadOnlyFS       = "read-only-filesystem"
	LogConnRefused      = "connection-refused"
	LogNoSuchHost       = "no-such-host"
	LogTimeout          = "dependency-timeout"
	LogNoSuchFile       = "no-such-file"
	LogConfigError      = "config-error"
	LogAddressInUse     = "address-in-use"
	LogGoPanic          = "go-panic"
	LogJavaException    = "java-exception"
	LogPythonTraceback  = "python-traceback"
	LogNodeError        = "node-error"
	LogConnReset        = "connection-reset"
	LogNotFound         = "command-not-found"
	LogError            = "error" // a generic error or fatal line
)

// LogSummary is what the previous log says.
type LogSummary struct {
	Empty      bool       `json:"empty"`
	Lines      int        `json:"lines"`
	FirstError *LogMatch  `json:"firstError,omitempty"`
	Matches    []LogMatch `json:"matches,omitempty"`
}

// LogMatch is a classified log line; Line counts from 1.
type LogMatch struct {
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Detail string `json:"detail,omitempty"` // host:port, path, ... quoted from the line
}

type logRule struct {
	kind   string
	re     *regexp.Regexp
	detail int // submatch index holding the detail, 0 for none
}

// logRules are tried in order; the first match classifies the line.
var logRules = []logRule{
	{LogOOM, regexp.MustCompile(`(?i)(out of memory|OutOfMemoryError|OutOfMemoryException|cannot allocate memory|JavaScript heap out of memory|MemoryError\b|fatal error: runtime: out of memory)`), 0},
	{LogReadOnlyFS, regexp.MustCompile(`(?i)(\S+)?:? ?read-only file system`), 0},
	{LogPermissionDenied, regexp.MustCompile(`(?i)(?:open |mkdir |write |)(/[^\s:'"]+)?:? ?(permission denied|EACCES|operation not permitted)`), 1},
	{LogConnRefused, regexp.MustCompile(`(?i)(?:dial tcp |connect to |connecting to |ECONNREFUSED )?(\[?[\w.:-]+\]?:\d+)?:? ?(?:connect: )?connection refused|ECONNREFUSED`), 1},
	{LogNoSuchHost, regexp.MustCompile(`(?i)(?:lookup |getaddrinfo ENOTFOUND )([\w.-]+)(?:[^\n]*?)(no such host|ENOTFOUND|server misbehaving|Name or service not known)|Temporary failure in name resolution|ENOTFOUND ([\w.-]+)`), 1},
	{LogTimeout, regexp.MustCompile(`(?i)(?:dial tcp |connecting to )(\[?[\w.:-]+\]?:\d+)[^\n]*(i/o timeout|timed out|deadline exceeded)|(?:ETIMEDOUT)`), 1},
	{LogAddressInUse, regexp.MustCompile(`(?i)(\S*:\d+)?:? ?(bind: )?address already in use|EADDRINUSE`), 1},
	{LogNotFound, regexp.MustCompile(`(?i)(?:exec: |sh: |bash: )(?:line \d+: )?(\S+): (?:command )?not found|executable file not found in \$PATH`), 1},
	{LogNoSuchFile, regexp.MustCompile(`(?i)'(/[^']+)': no such file or directory|no such file or directory:? ?(/[^\s'"]+)?|(/[^\s:'"]+): no such file or directory|ENOENT[^\n]*?'(/[^']+)'`), 1},
	{LogGoPanic, regexp.MustCompile(`^(panic: |fatal error: |goroutine \d+ \[running\]:)`), 0},
	{LogJavaException, regexp.MustCompile(`(Exception in thread "|^\s*(?:Caused by: )?(?:[a-z][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)(?::|$))`), 0},
	{LogPythonTraceback, regexp.MustCompile(`^(Traceback \(most recent call last\):|[A-Z]\w*(?:Error|Exception): )`), 0},
	{LogConnReset, regexp.MustCompile(`(?i)(ECONNRESET|connection reset by peer)`), 0},
	{LogNodeError, regexp.MustCompile(`^(?:Uncaught )?(?:Error|TypeError|RangeError|ReferenceError|SyntaxError): |^\s+at .+ \(node:`), 0},
	{LogConfigError, regexp.MustCompile(`(?i)(flag provided but not defined: (\S+)|unknown (?:flag|option|shorthand flag):? (\S+)|invalid configuration|error (?:reading|parsing|loading) config|config(?:uration)? (?:file )?(?:error|invalid)|yaml: (?:line \d+|unmarshal)|json: cannot unmarshal|missing required (?:env|environment variable|config)[^\n]*)`), 0},
	{LogError, regexp.MustCompile(`(?i)(\b(error|fatal|panic|critical|emerg|crit)\b|"severity":\s*"(error|fatal|critical)"|"level":\s*"(error|fatal|panic|critical)"|\blevel=(error|fatal|panic)\b)`), 0},
}

// ClassifyLog reads at most MaxLogLines lines (each cut at MaxLogLineBytes)
// and classifies them. The first error is the first classified line that is
// a real error, not a stack frame.
func ClassifyLog(r io.Reader) LogSummary {
	var s LogSummary
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	sc.Split(boundedLines)
	for sc.Scan() && s.Lines < MaxLogLines {
		s.Lines++
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) > MaxLogLineBytes {
			line = line[:MaxLogLineBytes]
		}
		m, ok := classifyLine(line)
		if !ok {
			continue
		}
		m.Line = s.Lines
		if s.FirstError == nil {
			first := m
			s.FirstError = &first
		}
		if len(s.Matches) < maxLogMatches {
			s.Matches = append(s.Matches, m)
		}
	}
	s.Empty = s.Lines == 0
	return s
}

// boundedLines splits like bufio.ScanLines but hands over a line longer than
// the buffer in pieces instead of failing the scan.
func boundedLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if len(data) >= 1<<20 {
		return len(data), data, nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func classifyLine(line string) (LogMatch, bool) {
	if strings.TrimSpace(line) == "" {
		return LogMatch{}, false
	}
	for _, r := range logRules {
		sm := r.re.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		m := LogMatch{Kind: r.kind, Text: strings.TrimSpace(line)}
		if r.detail > 0 {
			for _, d := range sm[r.detail:] {
				if d != "" {
					m.Detail = strings.Trim(d, "'\"")
					break
				}
			}
		}
		return m, true
	}
	return LogMatch{}, false
}

// matchOf returns the first match of a kind.
func (s LogSummary) matchOf(kinds ...string) *LogMatch {
	for i := range s.Matches {
		for _, k := range kinds {
			if s.Matches[i].Kind == k {
				return &s.Matches[i]
			}
		}
	}
	return nil
}
