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

func start(bin string, cols, rows int, env []string, args ...string) (*session, error) {
	cmd := exec.Command(bin, append([]string{"--debug-image", "crashlens.local/busybox:latest"}, args...)...)
	// A plain terminal type: the renderer then uses no optional sequences
	// (REP, ECH, ...) that vt10x does not emulate; colour is asked for
	// separately.
	cmd.Env = append(append(os.Environ(), "TERM=vt220", "COLORTERM=truecolor", "NO_COLOR="), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return nil, err
	}
	s := &session{pty: f, cmd: cmd, term: vt10x.New(vt10x.WithSize(cols, rows), vt10x.WithWriter(f))}
	go s.pump()
	// Once more after the program started: a size read before the pty's
	// was set (seen once as an 80-column first frame) is corrected by the
	// SIGWINCH this sends.
	time.Sleep(time.Second)
	s.resize(cols, rows)
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
	// settle is how long to wait after the screen showed want: the list's
	// CAUSE column is refined as the captures of the crashes the sync
	// found come in (four a second).
	settle time.Duration
}

const esc = "\x1b"

// steps walk the tour of the README in order, each from where the one
// before left the screen.
var steps = []step{
	{"", []string{"deploy/", "CAUSE", "CONTAINER", "synced"}, "01-list.png", 20 * time.Second},
	{"/mixup", []string{"/mixup", "deploy/probe-mixup-bad"}, "02-filter.png", 0},
	{"\r", []string{"1. liveness-kill", "Killing", "warming up", "/readyz →"}, "03-detail-seed01.png", 0},
	{"\t\t\t\tz", []string{"Probes", "+    path: /healthz"}, "04-probe-diff-zoomed.png", 0},
	// History: the recorder's rows and the local ledger's, merged; the
	// header's restart strip.
	{"z\t", []string{"History", "history: in-cluster recorder since", "KILLER"}, "05-history.png", 0},
	{"\rz", []string{"events then", "its log (the last lines, as captured)", "warming up for 30s"}, "06-stored-crash-log.png", 0},
	{"z" + esc + esc + esc + "/report-builder\r\t", []string{"OOM killed", "killed by oom-killer"}, "07-exit-code-oom.png", 0},
	{esc + esc + "/ingest-go\r\t", []string{"out of memory", "not an OOM kill"}, "08-app-out-of-memory.png", 0},
	{esc + esc + "/app-tcb-api\r", []string{"back-off: next restart", "never resets"}, "09-backoff-chaos.png", 0},
	{esc + esc + "?", []string{"crashlens keys", "log pane"}, "10-help.png", 0},
}

func main() {
	kubeconfig := flag.String("kubeconfig", "/var/lib/crashlens-cluster/kubeconfig", "the demo cluster's kubeconfig")
	fleetList := flag.String("fleet", "", "a KUBECONFIG list of the demo cluster and two more, for the fleet picture (empty: no fleet picture)")
	bin := flag.String("bin", "bin/crashlens", "the crashlens binary")
	out := flag.String("out", "screenshots", "folder for the PNGs")
	flag.Parse()
	s, err := start(*bin, 150, 40, nil, "--kubeconfig", *kubeconfig)
	if err != nil {
		fail(err)
	}
	for _, st := range steps {
		for _, k := range splitKeys(st.keys) {
			s.keys(k)
		}
		if err := s.waitFor(60*time.Second, st.want...); err != nil {
			fail(err)
		}
		time.Sleep(st.settle)
		if err := s.shot(*out, st.file); err != nil {
			fail(err)
		}
	}
	s.keys("q") // close help
	s.resize(80, 24)
	if err := s.waitFor(20*time.Second, "deploy/", "CAUSE"); err != nil {
		fail(err)
	}
	if err := s.shot(*out, "11-narrow-80x24.png"); err != nil {
		fail(err)
	}
	s.close()
	if *fleetList != "" {
		if err := shootFleet(*bin, *fleetList, *out); err != nil {
			fail(err)
		}
	}
}

// shootFleet pictures every context of the list at once, with the
// clusters panel open.
func shootFleet(bin, list, out string) error {
	if err := seedFleet(extraKubeconfigs(list)); err != nil {
		return err
	}
	s, err := start(bin, 150, 40, []string{"KUBECONFIG=" + list}, "--all-contexts")
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.waitFor(90*time.Second, "CLUSTER", "deploy/checkout", "deploy/indexer"); err != nil {
		return err
	}
	time.Sleep(steps[0].settle) // CAUSE refined by the captures, as in the first picture
	if err := s.shot(out, "12-fleet.png"); err != nil {
		return err
	}
	s.keys("C")
	if err := s.waitFor(20*time.Second, "every cluster"); err != nil {
		return err
	}
	return s.shot(out, "13-fleet-clusters-panel.png")
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
