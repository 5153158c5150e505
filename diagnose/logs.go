package diagnose

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// Bounds on what the classifier reads: logs are attacker-controlled text.
const (
	MaxLogLines     = 2000
	MaxLogLineBytes = 4096
	maxLogMatches   = 50
)

// LogSummary is what the previous log says.
type LogSummary struct {
	Empty      bool      `json:"empty"`
	Lines      int       `json:"lines"`
	FirstError *LogMatch `json:"firstError,omitempty"`
	// Cause is the line that names why the process stopped, by the one
	// rule of causeOf; nil when no line names a cause crashlens knows.
	Cause   *LogMatch  `json:"cause,omitempty"`
	Matches []LogMatch `json:"matches,omitempty"`
}

// LogMatch is a classified log line; Line counts from 1.
type LogMatch struct {
	Line      int    `json:"line"`
	Kind      string `json:"kind"`
	Signature string `json:"signature"` // the catalogue's id (signatures.go)
	Text      string `json:"text"`
	Detail    string `json:"detail,omitempty"` // host:port, path, ... quoted from the line
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
		if outranks(m, s.Cause) {
			cause := m
			s.Cause = &cause
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
	lower := strings.ToLower(line)
	for i := range signatures {
		sg := &signatures[i]
		if !sg.mayMatch(lower) {
			continue
		}
		sm := sg.re.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		m := LogMatch{Kind: sg.kind, Signature: sg.id, Text: strings.TrimSpace(line)}
		switch {
		case sg.detail == detailPath:
			if p := pathRE.FindStringSubmatch(line); p != nil {
				m.Detail = p[1]
			}
		case sg.detail > 0:
			for _, d := range sm[sg.detail:] {
				if d != "" {
					m.Detail = unquote(d)
					break
				}
			}
		}
		return m, true
	}
	return LogMatch{}, false
}

// outranks is the one rule for which line names the cause: a line of a
// class that names a cause (families.go) beats a symptom; an exhausted
// resource (memory, disk, file handles, threads) beats every later line,
// because what fails after it fails because of it; otherwise the later line
// wins, as a process logs why it gives up last (a Java "Caused by:" chain
// ends at the root, a retry loop ends at the error it gave up on).
func outranks(m LogMatch, cur *LogMatch) bool {
	r := familyOf(m.Kind).rank
	if r == rankSymptom {
		return false
	}
	if cur != nil && m.Kind == cur.Kind && m.Detail == "" && cur.Detail != "" {
		return false // a later line of the same class that names less (Node.js's "code: 'EMFILE'")
	}
	return cur == nil || r >= familyOf(cur.Kind).rank
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

// unquote drops the quotes around a detail quoted on both sides.
func unquote(d string) string {
	if len(d) >= 2 && (d[0] == '\'' || d[0] == '"') && d[len(d)-1] == d[0] {
		return d[1 : len(d)-1]
	}
	return d
}
