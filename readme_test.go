package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageLine is one line of the README's usage block: the command it runs
// and the flags its synopsis shows, by their long names.
type usageLine struct {
	text  string
	cmd   *cobra.Command
	flags map[string]bool
}

var (
	// synopsisEnd is where a usage line's synopsis stops and its
	// description (which may mention flags in passing) starts.
	synopsisEnd = regexp.MustCompile(`\s{2,}`)
	// shownFlag is a flag as a synopsis writes it: --name or -x, after a
	// space, [ or |, so "in-cluster" and "FILE|DIR|-" are not flags.
	shownFlag = regexp.MustCompile(`(?:^|[\s\[|])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b`)
	// tableRow and tableFlag read the README's flag table.
	tableRow  = regexp.MustCompile("(?m)^\\| (`--?[a-zA-Z].*?) \\| (.*) \\|$")
	tableFlag = regexp.MustCompile("`(?:-[a-zA-Z], )?--([a-z-]+)")
)

func readReadme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeTableFlags are the long names of the flags in the README's flag
// table.
func readmeTableFlags(readme string) map[string]bool {
	named := map[string]bool{}
	for _, m := range tableRow.FindAllStringSubmatch(readme, -1) {
		for _, f := range tableFlag.FindAllStringSubmatch(m[1], -1) {
			named[f[1]] = true
		}
	}
	return named
}

// readmeUsageBlock is the lines of the first fenced block under
// "## Usage".
func readmeUsageBlock(t *testing.T, readme string) []string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Usage\n")
	if !ok {
		t.Fatal(`README has no "## Usage" section`)
	}
	_, block, ok := strings.Cut(section, "```\n")
	if !ok {
		t.Fatal("README's usage section has no fenced block")
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		t.Fatal("README's usage block is not closed")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// lookupFlag finds a flag as cmd parses it (its own or inherited), by
// long name ("--output") or shorthand ("-o").
func lookupFlag(cmd *cobra.Command, shown string) *pflag.Flag {
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()} {
		if name, long := strings.CutPrefix(shown, "--"); long {
			if f := fs.Lookup(name); f != nil {
				return f
			}
		} else if f := fs.ShorthandLookup(strings.TrimPrefix(shown, "-")); f != nil {
			return f
		}
	}
	return nil
}

// parseUsageLine finds the command a usage line runs (the longest run of
// subcommand names after "crashlens") and the flags its synopsis shows;
// a flag the command does not have is an error.
func parseUsageLine(t *testing.T, root *cobra.Command, text string) usageLine {
	t.Helper()
	synopsis := synopsisEnd.Split(strings.TrimSpace(text), 2)[0]
	words := strings.Fields(synopsis)
	if len(words) == 0 || words[0] != "crashlens" {
		t.Errorf("usage line %q does not start with crashlens", text)
		return usageLine{text: text}
	}
	cmd := root
	for _, w := range words[1:] {
		sub := subcommand(cmd, w)
		if sub == nil {
			break
		}
		cmd = sub
	}
	line := usageLine{text: text, cmd: cmd, flags: map[string]bool{}}
	for _, m := range shownFlag.FindAllStringSubmatch(synopsis, -1) {
		f := lookupFlag(cmd, m[1])
		if f == nil {
			t.Errorf("usage line %q shows %s, which %q does not have", text, m[1], cmd.CommandPath())
			continue
		}
		line.flags[f.Name] = true
	}
	return line
}

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// TestReadmeUsageMatchesCommands holds the README's usage block to the
// command tree newRootCmd builds, so the front door cannot drift from the
// binary: every flag a usage line shows exists on the command that line
// runs; every command (but cobra's own help and completion, and hidden
// ones) has a usage line; and every visible flag a command defines for
// itself (not the global persistent ones, which the flag table and
// TestReadmeFlagsMatchHelp cover) is shown on one of its usage lines or
// explained in the flag table.
func TestReadmeUsageMatchesCommands(t *testing.T) {
	readme := readReadme(t)
	root := newRootCmd(io.Discard, io.Discard)
	shown := map[*cobra.Command]map[string]bool{}
	lines := readmeUsageBlock(t, readme)
	if len(lines) == 0 {
		t.Fatal("README's usage block is empty")
	}
	for _, text := range lines {
		line := parseUsageLine(t, root, text)
		if line.cmd == nil {
			continue
		}
		if shown[line.cmd] == nil {
			shown[line.cmd] = map[string]bool{}
		}
		for name := range line.flags {
			shown[line.cmd][name] = true
		}
	}
	table := readmeTableFlags(readme)
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		switch {
		case cmd.Hidden, cmd.Name() == "help", cmd.Name() == "completion":
			return
		}
		flags, ok := shown[cmd]
		if !ok {
			t.Errorf("%q has no line in the README's usage block", cmd.CommandPath())
		}
		cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !flags[f.Name] && !table[f.Name] {
				t.Errorf("%s --%s (%s) is in neither its usage line nor the README's flag table", cmd.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
