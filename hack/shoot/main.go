// Command shoot regenerates screenshots/*.png: it runs the real crashlens
// binary against the demo cluster in a pty, emulates the terminal with
// vt10x, types a scripted sequence of keys, waits for each screen to show
// real content (never a loading state) and renders it to PNG.
//
//	go run ./hack/shoot -kubeconfig /var/lib/crashlens-cluster/kubeconfig -bin bin/crashlens -out screenshots
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/crashlens/crashlens/screenshots"
)

// session is the binary in a pty with an emulated screen.
type session struct {
	pty  *os.File
	term vt10x.Terminal
	cmd  *exec.Cmd
}

func start(bin, kubeconfig string, cols, rows int) (*session, error) {
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "--debug-image", "crashlens.local/busybox:latest")
	// A plain terminal type: the renderer then uses no optional sequences
	// (REP, ECH, ...) that vt10x does not emulate; colour is asked for
	// separately.
	cmd.Env = append(os.Environ(), "TERM=vt220", "COLORTERM=truecolor", "NO_COLOR=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return nil, err
	}
	s := &session{pty: f, cmd: cmd, term: vt10x.New(vt10x.WithSize(cols, rows), vt10x.WithWriter(f))}
	go s.pump()
	return s, nil
}

// pump feeds everything the program writes into the emulator. It never
// stops on an emulator error: a pty nobody drains blocks the program.
func (s *session) pump() {
	buf := make([]byte, 64<<10)
	reported := false
	for {
		n, err := s.pty.Read(buf)
		if n > 0 {
			if _, werr := s.term.Write(buf[:n]); werr != nil && !reported {
				fmt.Fprintln(os.Stderr, "shoot: emulator:", werr)
				reported = true
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *session) keys(k string) {
	_, _ = s.pty.Write([]byte(k))
	time.Sleep(300 * time.Millisecond)
}

func (s *session) text() string { return s.term.String() } // String locks the screen itself

// waitFor waits until the screen shows every string and no loading state.
func (s *session) waitFor(timeout time.Duration, want ...string) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		t := s.text()
		ok := !strings.Contains(t, "loading…") && !strings.Contains(t, "syncing")
		for _, w := range want {
			ok = ok && strings.Contains(t, w)
		}
		if ok {
			time.Sleep(400 * time.Millisecond) // let the frame settle
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("screen never showed %q:\n%s", want, s.text())
}

func (s *session) shot(dir, name string) error {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := screenshots.WritePNG(f, s.term); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(dir, name))
	return nil
}

func (s *session) resize(cols, rows int) {
	_ = pty.Setsize(s.pty, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	s.term.Resize(cols, rows)
	time.Sleep(500 * time.Millisecond)
}

func (s *session) close() {
	_, _ = s.pty.Write([]byte{3}) // ctrl+c
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
	}
	s.pty.Close()
}

// step is one screen: keys to type, text to wait for, the file to write.
type step struct {
	keys string
	want []string
	file string
}

const esc = "\x1b"

var steps = []step{
	{"", []string{"deploy/probe-mixup-bad", "deploy/report-builder", "synced"}, "01-list.png"},
	{"/mixup", []string{"/mixup", "deploy/probe-mixup-bad"}, "02-filter.png"},
	{"\r", []string{"1. liveness-kill", "Killing", "warming up", "/readyz →"}, "03-detail-seed01.png"},
	{"\t\t\t\tz", []string{"Probes", "+    path: /healthz"}, "04-probe-diff-zoomed.png"},
	{"z" + esc + esc + "/report-builder\r\t", []string{"OOM killed", "killed by oom-killer"}, "05-exit-code-oom.png"},
	{esc + esc + "/app-tcb-api\r", []string{"backoff-never-resets", "back-off: next restart"}, "06-backoff-chaos.png"},
	{esc + esc + "?", []string{"crashlens keys", "log pane"}, "07-help.png"},
}

func main() {
	kubeconfig := flag.String("kubeconfig", "/var/lib/crashlens-cluster/kubeconfig", "the demo cluster's kubeconfig")
	bin := flag.String("bin", "bin/crashlens", "the crashlens binary")
	out := flag.String("out", "screenshots", "folder for the PNGs")
	flag.Parse()
	s, err := start(*bin, *kubeconfig, 120, 36)
	if err != nil {
		fail(err)
	}
	defer s.close()
	for _, st := range steps {
		for _, k := range splitKeys(st.keys) {
			s.keys(k)
		}
		if err := s.waitFor(60*time.Second, st.want...); err != nil {
			fail(err)
		}
		if err := s.shot(*out, st.file); err != nil {
			fail(err)
		}
	}
	s.keys("q") // close help
	s.resize(80, 24)
	if err := s.waitFor(20*time.Second, "deploy/"); err != nil {
		fail(err)
	}
	if err := s.shot(*out, "08-narrow-80x24.png"); err != nil {
		fail(err)
	}
}

// splitKeys sends ESC on its own, so it is not read as the start of an
// escape sequence.
func splitKeys(k string) []string {
	var out []string
	for _, part := range strings.SplitAfter(k, esc) {
		if part == "" {
			continue
		}
		if strings.HasSuffix(part, esc) && part != esc {
			out = append(out, strings.TrimSuffix(part, esc), esc)
			continue
		}
		out = append(out, part)
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "shoot:", err)
	os.Exit(1)
}
