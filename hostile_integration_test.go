//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/hack/clustertest"
)

// hostileScript is what an attacker's container prints: terminal control
// sequences of every kind with recognisable payloads, C1 controls, bidi
// overrides, invalid UTF-8, NUL, a code-fence breakout, a 1 MB single line
// and 100 MB of log, then the same corpus again so it is in the tail that
// crashlens reads (the kubelet rotates the log past 10 MiB and serves only
// the newest file). Its termination message holds the corpus too. The second
// run sleeps, so the previous log stays the 100 MB one.
const hostileScript = `
corpus() {
  printf 'CSI \033[2JCLEAR-MARKER \033[999;999HMOVE-MARKER \033[31;1;4;5;7mSGR-MARKER\033[0m\n'
  printf 'OSC title \033]2;PWNED-TITLE\007 clipboard \033]52;c;cHduZWQ=\007 link \033]8;;http://192.0.2.1/\033\\LINK-MARKER\033]8;;\033\\\n'
  printf 'DCS \033P1;2|pwned-dcs\033\\ C1 \302\233 31m \302\235 raw \233 bidi \342\200\256 txt.exe invalid \377\376 nul \000 end\n'
  printf 'fence ` + "````" + `\n` + "```" + `\n# injected heading\n'
}
if [ -e /state/crashed ]; then sleep 3600; fi
touch /state/crashed
corpus
head -c 1048576 /dev/zero | tr '\000' 'x'; echo
line=$(head -c 4000 /dev/zero | tr '\000' 'f')
yes "filler line of the 100 MB log $line" | head -c 104857600
echo
# The kubelet rotates a log over 10 MiB (it checks every 10 s) and serves
# only the newest file: wait for that, so the end is what crashlens reads.
sleep 12
corpus
echo HOSTILE-MARKER-END
corpus > /dev/termination-log
exit 1
`

// hostileMarkers are byte sequences of the corpus that must never reach a
// terminal or a report: each is a control sequence with the payload that
// makes it ours, not one crashlens's own renderer writes.
var hostileMarkers = []string{
	"\x1b[2JCLEAR-MARKER", "\x1b[999;999H", "\x1b[31;1;4;5;7m", "\x1b]2;PWNED", "\x1b]52;", "\x1b]8;", "\x1bP1;2|",
	"\u009b", "\u009d", "\u202e", "\x00", "PWNED-TITLE", "cHduZWQ=", "pwned-dcs",
}

// TestHostileInputNeverReachesTheTerminal: a pod logs the hostile corpus
// and 100 MB, writes it as its termination message, and carries it in an
// annotation and an event message. Through the TUI in a real terminal
// (tmux, every byte the program writes recorded) and through `explain`,
// none of the corpus's sequences come out, the pane title stays ours,
// memory stays bounded, and the report's code fences hold.
func TestHostileInputNeverReachesTheTerminal(t *testing.T) {
	cs := clustertest.ScenariosOnce(t)
	ctx := context.Background()
	ns := newNamespace(t, cs, "hostile")
	corpus := "\x1b]2;PWNED-TITLE\x07\x1b[2JCLEAR-MARKER \u202e \u009b31m \x1bP1;2|pwned-dcs\x1b\\"
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hostile", Namespace: ns, Annotations: map[string]string{"note": corpus}},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: new(int64),
			Volumes: []corev1.Volume{{Name: "state", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Containers: []corev1.Container{{Name: "app", Image: "crashlens.local/busybox:latest", ImagePullPolicy: corev1.PullNever,
				Command: []string{"sh", "-c", hostileScript}, VolumeMounts: []corev1.VolumeMount{{Name: "state", MountPath: "/state"}}}}}}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Wait for the first run to end (100 MB of log takes a while: the
	// runtime's log writer works line by line, so the filler comes in 4 KB
	// lines, not 30-byte ones, which took minutes on a loaded machine).
	created := time.Now()
	deadline := created.Add(5 * time.Minute)
	for {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "hostile", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil {
			pod = p
			t.Logf("the first run ended %s after the pod was created", time.Since(created).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hostile pod never finished its first run: %+v", p.Status)
		}
		time.Sleep(time.Second)
	}
	if _, err := cs.CoreV1().Events(ns).Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "hostile.1", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "hostile", UID: pod.UID, APIVersion: "v1"},
		Reason:         "Hostile", Message: "event " + corpus, Type: corev1.EventTypeWarning, Count: 1,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Source: corev1.EventSource{Component: "attacker"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kc := clustertest.Kubeconfig(t, "admin")
	bin := clustertest.BuildCrashlens(t, "hostile")
	x := startTUI(t, bin, "--kubeconfig", kc)
	raw := filepath.Join(t.TempDir(), "pane.raw")
	x.Run("pipe-pane", "-o", "-t", x.Session, "cat >> "+raw)
	waitStatus(x, 30*time.Second, "synced")
	x.Keys("/")
	x.Keys("-l", ns)
	x.WaitForLine(5*time.Second, "/"+ns)
	x.WaitFor(30*time.Second, "Restarted")
	x.Keys("Enter")
	x.WaitFor(60*time.Second, "Hostile", "Exit code")
	// Every pane, the previous log zoomed from its end to its start.
	x.Keys("Tab", "Tab", "Tab", "z", "G")
	x.WaitFor(10*time.Second, "HOSTILE-MARKER-END")
	for _, k := range []string{"g", "z", "Tab", "z", "z", "l"} { // l: the live tail
		x.Keys(k)
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	// The TUI names its window; the corpus's title change never lands.
	if title := strings.TrimSpace(x.Run("display-message", "-p", "-t", x.Session, "#{pane_title}")); title != "crashlens" {
		t.Errorf("the pane title is %q, want crashlens", title)
	}
	tui := clustertest.PidOf(t, bin)
	peak := clustertest.PeakRSS(t, tui)
	x.Keys("C-c")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
	x.Run("pipe-pane", "-t", x.Session) // stop recording

	out, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the TUI wrote %d bytes to the terminal; peak RSS %d MB", len(out), peak>>20)
	if len(out) < 10_000 {
		t.Fatalf("recorded only %d bytes of the TUI's output", len(out))
	}
	// The corpus was on screen (as its harmless text) ...
	for _, seen := range []string{"CLEAR-MARKER", "LINK-MARKER", "HOSTILE-MARKER-END"} {
		if !bytes.Contains(out, []byte(seen)) {
			t.Errorf("the TUI never showed %q: the corpus did not reach the screen", seen)
		}
	}
	// ... and none of its control sequences.
	assertClean(t, "the terminal", out)
	if !utf8.Valid(out) {
		t.Error("the TUI wrote invalid UTF-8 to the terminal")
	}
	if peak > 300<<20 {
		t.Errorf("the TUI peaked at %d MB reading a 100 MB log", peak>>20)
	}

	// explain: the same guarantees in Markdown, plus fences that hold.
	cmd := exec.Command(bin, "--kubeconfig", kc, "explain", ns+"/hostile")
	md, err := cmd.Output()
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("explain wrote %d bytes; peak RSS %d MB", len(md), maxRSS>>20)
	assertClean(t, "explain's report", md)
	if bytes.IndexByte(md, 0x1b) >= 0 {
		t.Error("explain's report contains an ESC byte")
	}
	if maxRSS > 200<<20 {
		t.Errorf("explain peaked at %d MB reading a 100 MB log", maxRSS>>20)
	}
	if !bytes.Contains(md, []byte("HOSTILE-MARKER-END")) {
		t.Error("explain's report lacks the end of the previous log")
	}
	for _, h := range outsideFences(string(md)) {
		if strings.Contains(h, "injected heading") {
			t.Errorf("the log broke out of its code fence: heading %q", h)
		}
	}
}

// assertClean fails for every hostile marker found in out.
func assertClean(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, m := range hostileMarkers {
		if i := bytes.Index(out, []byte(m)); i >= 0 {
			t.Errorf("%s received %q: …%q…", what, m, out[max(0, i-40):min(len(out), i+40)])
		}
	}
}

// outsideFences returns the Markdown headings that are not inside a code
// block (CommonMark fences: a closing fence is at least as long as the
// opening one, of the same character).
func outsideFences(md string) []string {
	var heads []string
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		trim := strings.TrimLeft(l, " ")
		run := len(trim) - len(strings.TrimLeft(trim, "`"))
		if run == 0 {
			run = len(trim) - len(strings.TrimLeft(trim, "~"))
		}
		switch {
		case fence == "" && run >= 3:
			fence = trim[:run]
		case fence != "" && run >= len(fence) && trim[0] == fence[0] && strings.TrimSpace(trim[run:]) == "":
			fence = ""
		case fence == "" && strings.HasPrefix(l, "#"):
			heads = append(heads, l)
		}
	}
	return heads
}
