// Command crashapp is the scenario catalogue's application: one static
// binary whose first argument picks the incident it reproduces. Each mode
// behaves as the application in the seed write-up did, so the cluster shows
// real probe failures, real exit codes and real log lines.
//
// Nothing here dials outside the pod: every address is loopback or comes
// from the manifest, which only names loopback or the pod network.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crashapp warmup-server|stalling-server|currency|oom|dial|write|segfault|serve|nil-deref|tls-dial")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "warmup-server":
		warmupServer()
	case "stalling-server":
		stallingServer()
	case "currency":
		currency()
	case "oom":
		oom()
	case "dial":
		dial()
	case "write":
		write()
	case "segfault":
		segfault()
	case "serve":
		serve()
	case "nil-deref":
		nilDeref()
	case "tls-dial":
		tlsDial()
	default:
		fmt.Fprintf(os.Stderr, "crashapp: unknown mode %q\n", os.Args[1])
		os.Exit(64)
	}
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

// warmupServer is seed 01's app.js: /readyz answers 503 for the first
// WARMUP_SECONDS (30) while caches warm, /healthz is always 200, and SIGTERM
// is handled by shutting down after 5 s.
func warmupServer() {
	warmup := time.Duration(envInt("WARMUP_SECONDS", 30)) * time.Second
	var ready atomic.Bool
	time.AfterFunc(warmup, func() {
		ready.Store(true)
		log.Printf("warm-up done: config loaded, database reachable, cache primed; ready")
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready.Load() {
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, "ok")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "warming up")
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "alive")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		log.Printf("got SIGTERM, shutting down gracefully...")
		time.Sleep(5 * time.Second)
		os.Exit(0)
	}()
	log.Printf("listening on %s; warming up for %s", port(), warmup)
	log.Fatal(http.ListenAndServe(":"+port(), mux))
}

// stallingServer is seed 02's user container: it serves traffic, but after
// STALL_AFTER_SECONDS its worker pool deadlocks and /healthz fails, so the
// liveness probe restarts it while, with no readiness probe, the pod stays
// in the Service's endpoints.
func stallingServer() {
	stallAfter := time.Duration(envInt("STALL_AFTER_SECONDS", 20)) * time.Second
	var stalled atomic.Bool
	time.AfterFunc(stallAfter, func() {
		stalled.Store(true)
		log.Printf("worker pool stalled: 16/16 workers blocked on the request queue; /healthz now failing")
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if stalled.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "workers stalled")
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello World!")
	})
	log.Printf("greeter listening on %s", port())
	log.Fatal(http.ListenAndServe(":"+port(), mux))
}

// currency is seed 03's checkoutservice: JSON logs, then the missing
// conversion script, then exit 2.
func currency() {
	logJSON := func(severity, msg string) {
		b, _ := json.Marshal(map[string]string{"message": msg, "severity": severity, "timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
		fmt.Println(string(b))
	}
	logJSON("info", "starting to load data…")
	logJSON("info", `[PlaceOrder] user_id="d7f14948-0863-4ae9-a26e-92eeb1fbb7ae" user_currency="USD"`)
	logJSON("info", "executing data currency conversion script")
	script := "/Users/my_user/bin/currency_script.sh"
	if _, err := os.Stat(script); err != nil {
		logJSON("error", "no such file or directory: "+script)
		os.Exit(2)
	}
}

// hoard keeps what oom allocates reachable, so the GC cannot free it.
var hoard [][]byte

// oom allocates and touches memory in 8 MiB steps until the cgroup's OOM
// killer ends it (exit 137, reason OOMKilled).
func oom() {
	for i := 1; ; i++ {
		chunk := make([]byte, 8<<20)
		for j := 0; j < len(chunk); j += 4096 {
			chunk[j] = byte(j)
		}
		hoard = append(hoard, chunk)
		log.Printf("building report: loaded %d MiB of events into memory", i*8)
		time.Sleep(100 * time.Millisecond)
	}
}

// dial is an API that needs its database on DB_ADDR and exits after a few
// refused attempts.
func dial() {
	addr := os.Getenv("DB_ADDR")
	if addr == "" {
		addr = "127.0.0.1:5432"
	}
	log.Printf("orders-api starting; connecting to postgres at %s", addr)
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var c net.Conn
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
			log.Printf("connected to %s", addr)
			select {}
		}
		log.Printf("attempt %d/3: %v", attempt, err)
		time.Sleep(time.Second)
	}
	log.Printf("FATAL: could not connect to database: %v", err)
	os.Exit(1)
}

// write needs to write its state file where the image gave it no rights.
func write() {
	path := os.Getenv("STATE_FILE")
	if path == "" {
		path = "/var/lib/orders/index.db"
	}
	log.Printf("orders-indexer starting as uid %d; opening %s", os.Getuid(), path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Printf("error: cannot open index: %v", err)
		os.Exit(1)
	}
	f.Close()
	select {}
}

// segfault dies of a real SIGSEGV as a C program would: the Go runtime's
// handler is replaced by the default action, then the program writes through
// a bad pointer. The kernel's forced signal kills even PID 1 (exit 139).
func segfault() {
	log.Printf("thumbnailer: decoding image batch 1/12 with libvips")
	time.Sleep(500 * time.Millisecond)
	type sigaction struct {
		handler  uintptr
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	var dfl sigaction // handler 0 is SIG_DFL
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0); errno != 0 {
		log.Fatalf("rt_sigaction: %v", errno)
	}
	*nilTarget = 1
}

// nilTarget is a package variable so the compiler cannot prove the write
// faults and drop it.
var nilTarget *int

// serve is a healthy HTTP service. It knows one flag, -port: v2 of the
// rollout scenario passes a flag it does not know and exits 2.
func serve() {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	p := fs.String("port", port(), "port to listen on")
	_ = fs.Parse(os.Args[2:])
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	log.Printf("serving on %s", *p)
	log.Fatal(http.ListenAndServe(":"+*p, mux))
}

// order is what nilDeref's pricing code reads; its Customer is nil for a
// guest checkout, which the code forgot.
type order struct {
	ID       string
	Customer *struct{ Tier string }
}

// nilDeref is a pricing worker with a real bug: after a few orders it meets
// a guest checkout and dereferences its nil customer, so the Go runtime
// panics ("invalid memory address or nil pointer dereference", exit 2).
func nilDeref() {
	log.Printf("pricing-worker starting; consuming orders from the queue")
	time.Sleep(time.Duration(envInt("START_SECONDS", 15)) * time.Second)
	orders := []order{{"o-1001", &struct{ Tier string }{"gold"}}, {"o-1002", &struct{ Tier string }{"silver"}}, {"o-1003", nil}}
	for _, o := range orders {
		log.Printf("pricing order %s", o.ID)
		log.Printf("order %s: customer tier %s", o.ID, o.Customer.Tier)
	}
}

// tlsDial is a service that checks its secrets store at start over TLS. The
// store (here a listener on loopback in the same process) presents a
// certificate from a CA the client was never given, so Go's crypto/x509
// rejects it ("certificate signed by unknown authority") and the service
// exits 1.
func tlsDial() {
	log.Printf("payments-api starting; checking the secrets store")
	time.Sleep(time.Duration(envInt("START_SECONDS", 15)) * time.Second)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vault.security.svc"},
		DNSNames: []string{"vault.security.svc"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:8200", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })}
	go func() { _ = srv.Serve(ln) }()
	url := "https://127.0.0.1:8200/v1/sys/health"
	log.Printf("GET %s", url)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		log.Printf("FATAL: cannot reach the secrets store: %v", err)
		os.Exit(1)
	}
	resp.Body.Close()
	select {}
}
