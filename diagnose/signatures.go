package diagnose

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// The signature catalogue: the words runtimes, libraries and servers print
// when they fail in a known way. A signature earns its place by its source:
// each cites who prints the text (the errno table of glibc, musl and Go's
// syscall package, the runtime's own fatal errors, a server's error
// message), not a scenario of ours. Its kind names the class of failure;
// the class decides the finding, the category and the fix (families.go).
//
// Order matters: the first signature that matches a line classifies it, so
// the specific come before the general (a JVM "OutOfMemoryError: unable to
// create native thread" is a thread limit, not a heap; ld.so's "cannot open
// shared object file: No such file or directory" is a missing library, not a
// missing file). TestSignatureCatalogue checks every signature against a
// realistic log in testdata/signatures.

// Log line kinds the classifier recognises. The first block names causes;
// the second, symptoms that say something broke but not why.
const (
	LogOOM              = "oom"
	LogThreads          = "threads-exhausted"
	LogDiskFull         = "disk-full"
	LogFileHandles      = "file-handles-exhausted"
	LogCredentials      = "credentials-rejected"
	LogTLS              = "tls-rejected"
	LogForbidden        = "api-forbidden"
	LogDatabaseMissing  = "database-missing"
	LogOverloaded       = "dependency-overloaded"
	LogIncompatible     = "image-incompatible"
	LogMissingLibrary   = "missing-library"
	LogCRLF             = "script-crlf"
	LogPrivilegedPort   = "privileged-port"
	LogPermissionDenied = "permission-denied"
	LogReadOnlyFS       = "read-only-filesystem"
	LogConnRefused      = "connection-refused"
	LogNoSuchHost       = "no-such-host"
	LogTimeout          = "dependency-timeout"
	LogUnreachable      = "network-unreachable"
	LogAddressInUse     = "address-in-use"
	LogNotFound         = "command-not-found"
	LogNoSuchFile       = "no-such-file"
	LogConfigError      = "config-error"
	LogCodeBug          = "code-bug"

	LogGoPanic         = "go-panic"
	LogJavaException   = "java-exception"
	LogPythonTraceback = "python-traceback"
	LogNodeError       = "node-error"
	LogDotnetException = "dotnet-exception"
	LogConnReset       = "connection-reset"
	LogError           = "error" // a generic error or fatal line
)

// signature is one recognisable piece of text.
type signature struct {
	id     string // stable; LogMatch.Signature
	kind   string
	source string // who prints it, where the wording is defined
	re     *regexp.Regexp
	// detail is the submatch holding what the finding quotes (a path, an
	// address, a user); the first non-empty from there on is taken.
	// detailPath takes the line's first absolute path instead.
	detail int
	// peer names the server or library that printed it ("PostgreSQL"), for
	// the verdict and the CAUSE column.
	peer string
	// cause, when set, is the CAUSE column's words for this signature.
	cause string
	// needles: see needles.
	needles []string
}

const detailPath = -1

func sig(id, kind, source, pattern string, detail int) signature {
	return signature{id: id, kind: kind, source: source, re: regexp.MustCompile(pattern), detail: detail, needles: needles(pattern)}
}

func (s signature) by(peer string) signature      { s.peer = peer; return s }
func (s signature) saying(cause string) signature { s.cause = cause; return s }

// pathRE finds the first absolute path in a line (quoted or bare; not a URL).
var pathRE = regexp.MustCompile(`(?:^|[\s'"(=‘\x60])(/[\w.@+-][^\s'"’:,)\x60]*)`)

var signatures = []signature{
	// ---- Threads and processes: before memory (the JVM calls a thread
	// limit an OutOfMemoryError).
	sig("jvm-native-thread", LogThreads, "OpenJDK hotspot os_linux.cpp / thread.cpp: java.lang.OutOfMemoryError \"unable to create native thread: possibly out of memory or process/resource limits reached\"",
		`OutOfMemoryError: unable to create (?:new )?native thread`, 0).saying("thread limit reached (JVM)"),
	sig("go-thread-limit", LogThreads, "Go runtime/os_linux.go newosproc: \"runtime: failed to create new OS thread (have N already; errno=11)\", then \"fatal error: newosproc\"",
		`runtime: failed to create new OS thread|fatal error: newosproc`, 0).saying("thread limit reached (Go)"),
	sig("errno-eagain-thread", LogThreads, "glibc pthread_create returns EAGAIN, strerror \"Resource temporarily unavailable\" (string/_strerror.c, sysdeps errlist); libstdc++ std::system_error what()",
		`(?i)pthread_create(?: failed)?:? .*Resource temporarily unavailable|can't create (?:new )?thread|Cannot allocate thread`, 0).saying("thread limit reached"),

	// ---- Memory: the runtime's own out-of-memory (never an OOM kill).
	sig("jvm-heap", LogOOM, "OpenJDK: java.lang.OutOfMemoryError (\"Java heap space\", \"Metaspace\", \"GC overhead limit exceeded\")",
		`OutOfMemoryError`, 0),
	sig("node-heap", LogOOM, "V8 / Node.js src/node_errors.cc OOMErrorHandler: \"FATAL ERROR: ... JavaScript heap out of memory\"",
		`(?i)JavaScript heap out of memory`, 0),
	sig("go-oom", LogOOM, "Go runtime/malloc.go throw(\"runtime: out of memory\") as \"fatal error: runtime: out of memory\"",
		`fatal error: runtime: out of memory|runtime: cannot allocate memory`, 0),
	sig("dotnet-oom", LogOOM, ".NET System.OutOfMemoryException (CoreLib Strings.resx Arg_OutOfMemoryException)",
		`OutOfMemoryException`, 0),
	sig("python-memoryerror", LogOOM, "CPython Objects/exceptions.c MemoryError",
		`\bMemoryError\b`, 0),
	sig("errno-enomem", LogOOM, "ENOMEM strerror \"Cannot allocate memory\" (glibc, musl __strerror.h; Go syscall: \"cannot allocate memory\"); \"out of memory\" from malloc wrappers",
		`(?i)cannot allocate memory|\bout of memory\b`, 0),

	// ---- Disk and file handles.
	sig("node-inotify-watchers", LogFileHandles, "Node.js lib/internal/fs/watchers.js: ENOSPC from inotify_add_watch is reported as \"System limit for number of file watchers reached\"",
		`(?i)System limit for number of file watchers reached(?:, watch '([^']+)')?|inotify_add_watch.*(?:no space left|ENOSPC)|inotify (?:watch|instance) limit reached|too many inotify`, 1).saying("inotify watch limit reached"),
	sig("postgres-disk-full", LogDiskFull, "PostgreSQL src/backend/storage/file/fd.c / xlog.c: PANIC/ERROR \"could not write to file \\\"%s\\\": No space left on device\"",
		`could not (?:write|extend|create) (?:to )?file "([^"]+)"[^\n]*No space left on device`, 1).by("PostgreSQL"),
	sig("errno-enospc", LogDiskFull, "ENOSPC strerror: glibc and musl \"No space left on device\", Go syscall \"no space left on device\", CPython OSError [Errno 28], Node.js/libuv ENOSPC, .NET IOException (the same strerror text)",
		`(?i)no space left on device|\bENOSPC\b|\[Errno 28\]|There is not enough space on the disk`, detailPath),
	sig("errno-edquot", LogDiskFull, "EDQUOT strerror: glibc/musl \"Disk quota exceeded\", Go \"disk quota exceeded\"",
		`(?i)disk quota exceeded|\bEDQUOT\b`, detailPath).saying("disk quota exceeded"),
	sig("sqlite-full", LogDiskFull, "SQLite sqlite3.c SQLITE_FULL: \"database or disk is full\"",
		`database or disk is full`, 0).by("SQLite"),
	sig("errno-enfile", LogFileHandles, "ENFILE strerror: glibc/musl \"Too many open files in system\", Go \"too many open files in system\"",
		`(?i)too many open files in system|\bENFILE\b`, 0).saying("out of file descriptors (node-wide)"),
	sig("errno-emfile", LogFileHandles, "EMFILE strerror: glibc/musl \"Too many open files\", Go syscall \"too many open files\", CPython [Errno 24], Node.js/libuv EMFILE, nginx \"(24: Too many open files)\"",
		`(?i)too many open files|\bEMFILE\b|\[Errno 24\]`, detailPath),

	// ---- TLS: before the network (the line often holds the URL it dialled).
	sig("go-x509", LogTLS, "Go crypto/x509 verify.go: \"x509: certificate signed by unknown authority\", \"x509: certificate has expired or is not yet valid\", \"x509: certificate is valid for X, not Y\"",
		`x509: (?:certificate (?:signed by unknown authority|has expired|is not yet valid|is valid for [^\n]*?, not ([\w.*-]+)|relies on legacy Common Name)|cannot validate certificate|negative serial number)`, 1),
	sig("go-tls-keypair", LogTLS, "Go crypto/tls tls.go X509KeyPair: \"tls: private key does not match public key\", \"tls: failed to find any PEM data in certificate input\"",
		`tls: (?:private key does not match public key|failed to find any PEM data in (?:certificate|key) input|failed to parse private key)`, 0).saying("TLS key pair invalid"),
	sig("jvm-pkix", LogTLS, "OpenJDK sun.security.validator.PKIXValidator: \"PKIX path building failed\", \"unable to find valid certification path to requested target\"",
		`PKIX path (?:building|validation) failed|unable to find valid certification path`, 0),
	sig("jvm-cert-expired", LogTLS, "OpenJDK java.security.cert.CertificateExpiredException / CertificateNotYetValidException, javax.net.ssl.SSLHandshakeException",
		`CertificateExpiredException|CertificateNotYetValidException|SSLHandshakeException: (?:No subject alternative|PKIX)`, 0),
	sig("openssl-verify", LogTLS, "OpenSSL crypto/x509/x509_txt.c via CPython Modules/_ssl.c: \"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ...\"",
		`CERTIFICATE_VERIFY_FAILED|certificate verify failed`, 0),
	sig("node-tls", LogTLS, "Node.js src/crypto/crypto_common.cc X509 verify error codes: UNABLE_TO_VERIFY_LEAF_SIGNATURE \"unable to verify the first certificate\", CERT_HAS_EXPIRED \"certificate has expired\", SELF_SIGNED_CERT_IN_CHAIN \"self-signed certificate in certificate chain\", ERR_TLS_CERT_ALTNAME_INVALID",
		`UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate|CERT_HAS_EXPIRED|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|self[- ]signed certificate|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|^Error: certificate has expired`, 0),
	sig("dotnet-remote-cert", LogTLS, ".NET System.Net.Security SslStream: AuthenticationException \"The remote certificate is invalid according to the validation procedure\" (net_ssl_io_cert_validation)",
		`The remote certificate is invalid|RemoteCertificate(?:NameMismatch|ChainErrors|NotAvailable)`, 0),

	// ---- Credentials and authorization.
	sig("postgres-auth", LogCredentials, "PostgreSQL src/backend/libpq/auth.c auth_failed(): \"password authentication failed for user \\\"%s\\\"\", ClientAuthentication: \"no pg_hba.conf entry for host ...\"",
		`(?:password|SCRAM) authentication failed for user "([^"]+)"|no pg_hba\.conf entry for host "[^"]*", user "([^"]+)"`, 1).by("PostgreSQL"),
	sig("mysql-access-denied", LogCredentials, "MySQL share/messages_to_clients.txt ER_ACCESS_DENIED_ERROR 1045: \"Access denied for user '%s'@'%s' (using password: %s)\"",
		`Access denied for user '([^']+)'@`, 1).by("MySQL"),
	sig("sqlserver-login", LogCredentials, "SQL Server error 18456: \"Login failed for user '%s'.\" (Microsoft.Data.SqlClient SqlException)",
		`Login failed for user '([^']*)'`, 1).by("SQL Server"),
	sig("redis-auth", LogCredentials, "Redis src/acl.c / server.c: \"-WRONGPASS invalid username-password pair or user is disabled.\", \"-NOAUTH Authentication required.\" (redis-py strips the code: \"AuthenticationError: Authentication required.\")",
		`WRONGPASS invalid username-password pair|NOAUTH Authentication required|AuthenticationError: Authentication required|invalid password`, 0).by("Redis"),
	sig("mongo-auth", LogCredentials, "MongoDB error code 18 AuthenticationFailed: \"Authentication failed.\" (mongod src/mongo/db/auth/sasl_commands.cpp)",
		`MongoServerError: Authentication failed|AuthenticationFailed|MongoSecurityException`, 0).by("MongoDB"),
	sig("amqp-access-refused", LogCredentials, "RabbitMQ rabbit_reader.erl: \"ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN\"",
		`ACCESS_REFUSED - Login was refused|ProbableAuthenticationError`, 0).by("RabbitMQ"),
	sig("kafka-sasl", LogCredentials, "Apache Kafka org.apache.kafka.common.errors.SaslAuthenticationException: \"Authentication failed during authentication due to invalid credentials with SASL mechanism\"",
		`SaslAuthenticationException|Authentication failed during authentication due to invalid credentials`, 0).by("Kafka"),
	sig("aws-credentials", LogCredentials, "AWS API error codes (IAM/STS/S3 docs): ExpiredToken, InvalidAccessKeyId, InvalidClientTokenId, SignatureDoesNotMatch, UnrecognizedClientException",
		`\b(ExpiredToken(?:Exception)?|InvalidAccessKeyId|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException)\b`, 1).by("AWS"),
	sig("generic-auth-failed", LogCredentials, "the common wording of clients and servers (libpq, JDBC drivers, SASL libraries): \"authentication failed\"",
		`(?i)\bauthentication failed\b|invalid (?:username or password|credentials)\b|bad credentials`, 0),
	sig("k8s-forbidden", LogForbidden, "Kubernetes apiserver RBAC (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go): \"%s is forbidden: User \\\"%s\\\" cannot %s resource \\\"%s\\\"\"",
		`is forbidden: User \\?"([^"\\]+)\\?" cannot`, 1),

	// ---- Dependencies that answer but refuse.
	sig("postgres-db-missing", LogDatabaseMissing, "PostgreSQL src/backend/utils/init/postinit.c: FATAL \"database \\\"%s\\\" does not exist\"",
		`database "([^"]+)" does not exist`, 1).by("PostgreSQL"),
	sig("mysql-unknown-db", LogDatabaseMissing, "MySQL ER_BAD_DB_ERROR 1049: \"Unknown database '%s'\"",
		`Unknown database '([^']+)'`, 1).by("MySQL"),
	sig("postgres-too-many-clients", LogOverloaded, "PostgreSQL src/backend/storage/lmgr/proc.c InitProcess: \"sorry, too many clients already\"; postinit.c \"remaining connection slots are reserved\"",
		`sorry, too many clients already|remaining connection slots are reserved`, 0).by("PostgreSQL").saying("PostgreSQL out of connections"),
	sig("mysql-too-many-connections", LogOverloaded, "MySQL ER_CON_COUNT_ERROR 1040: \"Too many connections\"",
		`(?:ERROR 1040|Too many connections)`, 0).by("MySQL").saying("MySQL out of connections"),
	sig("redis-maxmemory", LogOverloaded, "Redis src/server.c shared.oomerr: \"-OOM command not allowed when used memory > 'maxmemory'.\"",
		`OOM command not allowed when used memory`, 0).by("Redis").saying("Redis at maxmemory"),

	// ---- The image does not fit: platform, libc, runtime version.
	sig("exec-format", LogIncompatible, "execve ENOEXEC strerror \"Exec format error\" (glibc/musl), as runc (libcontainer standard_init_linux.go: \"exec %s: %w\") and Go's os/exec print it: \"exec /app: exec format error\"; a binary for another CPU architecture, or a script without a #! line",
		`(?i)(?:exec |fork/exec )?(/[^\s:]+)?:? ?exec format error|\bENOEXEC\b`, 1).saying("exec format error (CPU arch or no #!)"),
	sig("ldso-glibc-version", LogIncompatible, "glibc elf/dl-version.c: \"version `GLIBC_2.34' not found (required by ...)\"",
		"version `(GLIBC[\\w.]*|GLIBCXX[\\w.]*|CXXABI[\\w.]*)' not found", 1).saying("image's libc too old"),
	sig("jvm-class-version", LogIncompatible, "OpenJDK java.lang.UnsupportedClassVersionError: \"has been compiled by a more recent version of the Java Runtime\"",
		`UnsupportedClassVersionError|compiled by a more recent version of the Java Runtime`, 0).saying("JVM older than the app"),
	sig("dotnet-framework-missing", LogIncompatible, ".NET host (hostfxr) fx_muxer: \"You must install or update .NET to run this application.\", \"The framework '%s', version '%s' was not found.\"",
		`You must install or update \.NET to run this application|The framework '[^']+', version '[^']+'[^\n]* was not found`, 0).saying(".NET runtime version missing"),
	sig("musl-symbol", LogIncompatible, "musl ldso/dynlink.c: \"Error relocating %s: %s: symbol not found\" (a glibc build on a musl image)",
		`Error relocating [^:]+: ([^:]+): symbol not found`, 1).saying("glibc binary on a musl image"),

	// ---- Code the app loads that is not in the image.
	sig("ldso-missing-lib", LogMissingLibrary, "glibc elf/dl-load.c via _dl_signal_error: \"error while loading shared libraries: %s: cannot open shared object file\"",
		`error while loading shared libraries: ([^:\s]+)`, 1),
	sig("musl-missing-lib", LogMissingLibrary, "musl ldso/dynlink.c: \"Error loading shared library %s: %s (needed by %s)\"",
		`Error loading shared library ([^:\s]+)`, 1),
	sig("python-module", LogMissingLibrary, "CPython Lib/importlib/_bootstrap.py: ModuleNotFoundError \"No module named '%s'\"",
		`(?:ModuleNotFoundError|ImportError): No module named '([^']+)'`, 1),
	sig("node-module", LogMissingLibrary, "Node.js lib/internal/modules/cjs/loader.js: \"Cannot find module '%s'\" (MODULE_NOT_FOUND), ESM ERR_MODULE_NOT_FOUND \"Cannot find package '%s'\"",
		`Cannot find (?:module|package) '([^']+)'`, 1),
	sig("jvm-class-missing", LogMissingLibrary, "OpenJDK java.lang.ClassNotFoundException / NoClassDefFoundError (the class name is the message)",
		`(?:ClassNotFoundException|NoClassDefFoundError): ([\w.$/]+)`, 1),
	sig("dotnet-assembly", LogMissingLibrary, ".NET FileNotFoundException \"Could not load file or assembly '%s'\" (CoreLib IO_FileLoad)",
		`Could not load file or assembly '([^,']+)`, 1),

	// ---- Scripts saved with Windows line endings.
	sig("script-crlf", LogCRLF, "the kernel looks for an interpreter named \"/bin/sh\\r\": bash execute_cmd.c \"bad interpreter\", coreutils env \"'bash\\r': No such file or directory\"",
		"(?:(/\\S+): )?\\S*(?:\\^M|\\r): bad interpreter|'\\w+\\\\r'|\\x60\\w+\\\\r'|‘\\w+\\\\r’|\\$'\\\\r': command not found", 1),

	// ---- Permissions.
	sig("bind-privileged", LogPrivilegedPort, "bind(2) EACCES on a port below 1024 for a user without CAP_NET_BIND_SERVICE: Go \"listen tcp :80: bind: permission denied\", nginx \"bind() to 0.0.0.0:80 failed (13: Permission denied)\", Node.js \"listen EACCES: permission denied 0.0.0.0:80\"",
		`(?i)listen tcp ([\w.:\[\]]*:\d+): bind: permission denied|bind\(\) to (\S+) failed \(13: Permission denied\)|listen EACCES: permission denied (\S+)`, 1),
	sig("errno-erofs", LogReadOnlyFS, "EROFS strerror: glibc/musl \"Read-only file system\", Go \"read-only file system\", nginx \"(30: Read-only file system)\"",
		`(?i)read-only file system|\bEROFS\b|\[Errno 30\]`, detailPath),
	sig("errno-eacces", LogPermissionDenied, "EACCES/EPERM strerror: glibc/musl \"Permission denied\", \"Operation not permitted\"; Go \"permission denied\"; CPython PermissionError [Errno 13]; Node.js EACCES; .NET UnauthorizedAccessException \"Access to the path '...' is denied\"",
		`(?i)permission denied|\bEACCES\b|operation not permitted|Access to the path '[^']+' is denied`, detailPath),

	// ---- The network: a dependency down or unreachable.
	sig("errno-econnrefused", LogConnRefused, "ECONNREFUSED strerror \"Connection refused\" (glibc, musl; Go \"connect: connection refused\"; CPython [Errno 111]; Node.js \"connect ECONNREFUSED host:port\"; .NET SocketException (111); libpq, redis-cli, JDBC)",
		`(?i)(?:dial tcp |connect to |connecting to |ECONNREFUSED |Redis at |connect\(\) to )?(\[?[\w.:-]+\]?:\d+)?:? ?(?:connect: )?connection refused|ECONNREFUSED|actively refused`, 1),
	sig("mysql-cant-connect", LogConnRefused, "MySQL client errmsg CR_CONN_HOST_ERROR 2003 / CR_CONNECTION_ERROR 2002: \"Can't connect to MySQL server on '%s:%d' (%d)\"; MariaDB Connector/C 3.1.10+: \"Can't connect to server on '%s' (%d)\"",
		`Can't connect to (?:local )?(?:MySQL )?server (?:on '([^']+)'|through socket '([^']+)')`, 1).by("MySQL"),
	sig("kafka-broker", LogConnRefused, "Apache Kafka clients NetworkClient: \"Connection to node %d (%s) could not be established. Broker may not be available.\" (3.7+: \"Node may not be available.\")",
		`Connection to node -?\d+ \(([^)]+)\) could not be established`, 1).by("Kafka"),
	sig("jvm-unknown-host", LogNoSuchHost, "OpenJDK java.net.UnknownHostException (the host name is the message)",
		`UnknownHostException: ([\w.-]+)`, 1),
	sig("dns-lookup", LogNoSuchHost, "Go net/lookup.go \"lookup %s on %s: no such host\"; glibc gai_strerror \"Name or service not known\", \"Temporary failure in name resolution\"; Node.js getaddrinfo ENOTFOUND/EAI_AGAIN",
		`(?i)lookup ([\w.-]+)[^\n]*?(?:no such host|server misbehaving|Name or service not known|Temporary failure)|getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)|Temporary failure in name resolution|Name or service not known|No address associated with hostname|\b(?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)`, 1),
	sig("curl-resolve", LogNoSuchHost, "curl lib/strerror.c CURLE_COULDNT_RESOLVE_HOST: \"Could not resolve host: %s\"",
		`Could not resolve host:? ([\w.-]+)`, 1),
	sig("musl-dns", LogNoSuchHost, "musl src/network/gai_strerror.c \"Name does not resolve\"; busybox networking/wget.c and libbb xconnect.c \"bad address '%s'\"",
		`Name does not resolve|bad address '([^']+)'`, 1),
	sig("nginx-host-not-found", LogNoSuchHost, "nginx src/http/ngx_http_upstream.c / ngx_inet.c: \"host not found in upstream \\\"%V\\\"\"",
		`host not found in (?:upstream|resolver) "([^"]+)"`, 1).by("nginx"),
	sig("dotnet-dns", LogNoSuchHost, ".NET SocketException from getaddrinfo: \"No such host is known\", \"Name or service not known\"",
		`No such host is known`, 0),
	sig("network-unreachable", LogUnreachable, "EHOSTUNREACH/ENETUNREACH strerror: \"No route to host\", \"Network is unreachable\" (glibc, musl; Go lowercases them)",
		`(?i)(?:connect to ([\w.-]+ port \d+) failed: |dial tcp ([\w.:\[\]-]+): [^\n]*?|sendto ([\w.:]+): )?(?:no route to host|network is unreachable)|\bEHOSTUNREACH\b|\bENETUNREACH\b`, 1),
	sig("connect-timeout", LogTimeout, "connect(2) ETIMEDOUT \"Connection timed out\"; Go net \"dial tcp %s: i/o timeout\"; Java SocketTimeoutException \"Connect timed out\"; MongoDB driver \"Server selection timed out after %d ms\"",
		`(?i)(?:dial tcp |connecting to )(\[?[\w.:-]+\]?:\d+)[^\n]*(i/o timeout|timed out|deadline exceeded)|\bETIMEDOUT\b|SocketTimeoutException|Connect(?:ion)? timed out|Server selection timed out`, 1),

	// ---- Ports, commands, files, configuration.
	sig("spring-port-in-use", LogAddressInUse, "Spring Boot PortInUseFailureAnalyzer: \"Web server failed to start. Port %d was already in use.\"",
		`Port (\d+) was already in use`, 1),
	sig("errno-eaddrinuse", LogAddressInUse, "EADDRINUSE strerror \"Address already in use\" (glibc, musl; Go \"bind: address already in use\"; CPython [Errno 98]; Node.js EADDRINUSE; nginx \"(98: Address already in use)\"; Kestrel \"Failed to bind to address\")",
		`(?i)(\S*:\d+)?:? ?(bind: )?address already in use|EADDRINUSE|bind\(\) to (\S+) failed \(98|Failed to bind to address (\S+?):? address already in use`, 1),
	sig("bash-interpreter-missing", LogNotFound, "bash 5.2 execute_cmd.c shell_execve: \"%s: cannot execute: required file not found\" when the #! interpreter does not exist (a CRLF line ending, #!/bin/bash on an image without bash)",
		`(/\S+): cannot execute: required file not found`, 1).saying("script's interpreter missing (#!, CRLF?)"),
	sig("shell-not-found", LogNotFound, "POSIX shells: dash/busybox \"sh: %s: not found\", bash \"%s: command not found\"; Go os/exec \"executable file not found in $PATH\"",
		`(?i)(?:exec: |sh: |bash: )(?:line \d+: )?(\S+): (?:command )?not found|executable file not found in \$PATH`, 1),
	sig("nginx-open", LogNoSuchFile, "nginx src/core/ngx_conf_file.c: open() \"%s\" failed (2: No such file or directory)",
		`open\(\) "([^"]+)" failed \(2: No such file or directory\)`, 1).by("nginx"),
	sig("dotnet-file-not-found", LogNoSuchFile, ".NET FileNotFoundException \"Could not find file '%s'\" (IO_FileNotFound_FileName); Microsoft.Extensions.Configuration \"The configuration file '%s' was not found and is not optional. The expected physical path was '%s'.\"",
		`Could not find (?:file|a part of the path) '([^']+)'|was not found and is not optional\. The expected physical path was '([^']+)'`, 1),
	sig("errno-enoent", LogNoSuchFile, "ENOENT strerror \"No such file or directory\" (glibc, musl; Go lowercase; CPython FileNotFoundError [Errno 2]; Node.js ENOENT)",
		`(?i)'(/[^']+)': no such file or directory|no such file or directory:? ?'?(/[^\s'"]+)?|(/[^\s:'"]+): no such file or directory|ENOENT[^\n]*?'(/[^']+)'`, 1),
	sig("initdb-not-empty", LogConfigError, "PostgreSQL src/bin/initdb/initdb.c: \"directory \\\"%s\\\" exists but is not empty\" and the lost+found detail (a volume's root used as the data directory)",
		`directory "([^"]+)" exists but is not empty`, 1).by("PostgreSQL").saying("data dir not empty (mount root?)"),
	sig("env-required", LogConfigError, "configuration loaders: kelseyhightower/envconfig \"required key %s missing value\", Spring PropertyPlaceholderHelper (PlaceholderResolutionException since 6.2) \"Could not resolve placeholder '%s'\", CPython os.environ KeyError, Django ImproperlyConfigured",
		`required key (\w+) missing value|Could not resolve placeholder '([^']+)'|^KeyError: '([A-Z][A-Z0-9_]{2,})'|ImproperlyConfigured`, 1),
	sig("nginx-config", LogConfigError, "nginx src/core/ngx_conf_file.c: \"[emerg] unknown directive\", \"invalid parameter\", \"directive is not allowed here\"",
		`\[emerg\][^\n]*(?:unknown directive|invalid (?:number of arguments|parameter|value)|directive is not allowed here|unexpected)`, 0).by("nginx"),
	sig("app-config", LogConfigError, "flag and config parsers: Go flag \"flag provided but not defined: %s\", cobra/pflag \"unknown flag\", yaml.v3 \"yaml: line %d\", encoding/json \"json: cannot unmarshal\"",
		`(?i)(flag provided but not defined: (\S+)|unknown (?:flag|option|shorthand flag):? (\S+)|invalid configuration|error (?:reading|parsing|loading) config|config(?:uration)? (?:file )?(?:error|invalid)|yaml: (?:line \d+|unmarshal)|json: cannot unmarshal|missing required (?:env|environment variable|config)[^\n]*)`, 0),

	// ---- Bugs: the runtime names a programming error.
	sig("go-runtime-error", LogCodeBug, "Go runtime/panic.go and runtime/error.go: \"panic: runtime error: invalid memory address or nil pointer dereference\", \"index out of range [%d] with length %d\", \"integer divide by zero\"",
		`panic: runtime error: ((?:invalid memory address or nil pointer dereference|index out of range|slice bounds out of range|integer divide by zero|makeslice)[^\n]*)`, 1),
	sig("go-fatal-bug", LogCodeBug, "Go runtime/map.go and proc.go throws: \"fatal error: concurrent map writes\", \"concurrent map read and map write\", \"all goroutines are asleep - deadlock!\"",
		`fatal error: (concurrent map (?:writes|read and map write|iteration and map write)|all goroutines are asleep - deadlock!)`, 1),
	sig("jvm-bug", LogCodeBug, "OpenJDK java.lang.NullPointerException (JEP 358 helpful messages), StackOverflowError, ArrayIndexOutOfBoundsException, ClassCastException",
		`\b(NullPointerException|StackOverflowError|ArrayIndexOutOfBoundsException|ClassCastException|ConcurrentModificationException)\b`, 1),
	sig("node-bug", LogCodeBug, "V8 messages (src/common/message-template.h): \"Cannot read properties of undefined (reading '%s')\", \"%s is not a function\", \"%s is not defined\", \"Maximum call stack size exceeded\"",
		`((?:TypeError: Cannot read propert(?:y|ies) of (?:undefined|null)|TypeError: \S+ is not a function|ReferenceError: \S+ is not defined|RangeError: Maximum call stack size exceeded)[^\n]*)`, 1),
	sig("python-bug", LogCodeBug, "CPython exceptions of programming errors: AttributeError on NoneType, TypeError, NameError, RecursionError, SyntaxError, IndentationError",
		`^((?:AttributeError: 'NoneType' object has no attribute|TypeError: |NameError: name|RecursionError: maximum recursion depth|SyntaxError: |IndentationError: |UnboundLocalError: )[^\n]*)`, 1),
	sig("dotnet-bug", LogCodeBug, ".NET NullReferenceException \"Object reference not set to an instance of an object.\", IndexOutOfRangeException, InvalidCastException",
		`(System\.(?:NullReferenceException|IndexOutOfRangeException|InvalidCastException|StackOverflowException)[^\n]*)`, 1),
	sig("glibc-heap-corruption", LogCodeBug, "glibc malloc/malloc.c malloc_printerr: \"free(): double free detected in tcache 2\", \"malloc(): corrupted top size\", \"corrupted double-linked list\"; \"*** stack smashing detected ***\"",
		`((?:free|malloc|realloc)\(\): [^\n]*(?:double free|corrupted|invalid)[^\n]*|double free or corruption[^\n]*|corrupted double-linked list|\*\*\* stack smashing detected \*\*\*)`, 1),

	// ---- Symptoms: something broke, the line does not say why.
	sig("go-panic", LogGoPanic, "Go runtime/panic.go printpanics \"panic: \", throw \"fatal error: \", the goroutine trace header",
		`^(panic: |fatal error: |goroutine \d+ \[running\]:)`, 0),
	sig("java-exception", LogJavaException, "OpenJDK Throwable.printStackTrace: \"Exception in thread \\\"%s\\\" \", \"Caused by: \"",
		`(Exception in thread "|^\s*(?:Caused by: )?(?:[a-z][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)(?::|$))`, 0),
	sig("python-traceback", LogPythonTraceback, "CPython Python/traceback.c: \"Traceback (most recent call last):\" and the final \"<Type>Error: \" line",
		`^(Traceback \(most recent call last\):|[A-Z]\w*(?:Error|Exception): )`, 0),
	sig("connection-reset", LogConnReset, "ECONNRESET strerror \"Connection reset by peer\"",
		`(?i)(ECONNRESET|connection reset by peer)`, 0),
	sig("node-error", LogNodeError, "Node.js uncaught exception output: \"Error: \", \"Uncaught TypeError: \", stack frames \"at ... (node:...)\"",
		`^(?:Uncaught )?(?:Error|TypeError|RangeError|ReferenceError|SyntaxError): |^\s+at .+ \(node:`, 0),
	sig("dotnet-unhandled", LogDotnetException, ".NET runtime unhandled exception output: \"Unhandled exception. \"",
		`^Unhandled exception\. `, 0),
	sig("error-line", LogError, "log levels: \"error\", \"fatal\", \"panic\", \"critical\" as words or as a JSON/logfmt level",
		`(?i)(\b(error|fatal|panic|critical|emerg|crit)\b|"severity":\s*"(error|fatal|critical)"|"level":\s*"(error|fatal|panic|critical)"|\blevel=(error|fatal|panic)\b)`, 0),
}

// needles are lower-case strings of which a line must hold at least one
// for the signature's expression to be tried, found from its syntax tree.
// Most lines of a log match nothing, and a substring search over a
// lower-cased line is far cheaper than ninety expressions (ClassifyLog
// reads up to 2,000 lines of every captured crash). Nil means always try.
func needles(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(re.Simplify())
	for i, n := range set {
		if len(n) < 3 {
			return nil // too short to be worth a search: always try
		}
		set[i] = strings.ToLower(n)
	}
	return set
}

// required is a set of literals one of which every match of re contains;
// nil when there is none.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			r := required(s)
			if r == nil {
				return nil
			}
			out = append(out, r...)
		}
		return out
	case syntax.OpConcat:
		// The sub-expression whose shortest needle is longest.
		var best []string
		shortest := func(set []string) int {
			n := -1
			for _, s := range set {
				if n < 0 || len(s) < n {
					n = len(s)
				}
			}
			return n
		}
		for _, s := range re.Sub {
			if r := required(s); r != nil && shortest(r) > shortest(best) {
				best = r
			}
		}
		return best
	}
	return nil
}

// mayMatch: the lower-cased line holds one of the signature's needles.
func (s *signature) mayMatch(lower string) bool {
	if s.needles == nil {
		return true
	}
	for _, n := range s.needles {
		if strings.Contains(lower, n) {
			return true
		}
	}
	return false
}
