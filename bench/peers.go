package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// contender is a proxy under test, or direct (no proxy at all).
type contender struct {
	Name    string
	Forward bool // HTTP forward requests
	Connect bool // HTTP CONNECT
	SOCKS5  bool
	Version string
	// privileged keeps the process as root: the bare proxy's io.Copy would otherwise spend
	// the per-user pipe quota and its descriptors on the runtime's splice pipes.
	privileged bool
	// bindsOut is set for a proxy that binds its outgoing sockets before connecting: their
	// ports, in TIME_WAIT for 60 s after, are then closed to every other connect(), which
	// slows whoever runs next. The bench waits for them to expire.
	bindsOut bool
	// start launches the proxy listening on addr with its files in dir, as argv (before the
	// pinning and user prefix). Nil for direct.
	argv func(dir, addr string) ([]string, error)
	// versionArgv prints the version.
	versionArgv []string
	versionRE   string
	binary      string
}

// tunnelProto is the protocol used for tunnels: CONNECT where the contender has it.
func (c *contender) tunnelProto() string {
	if c.Connect || c.argv == nil {
		return "connect"
	}
	return "socks5"
}

// peerSpecs are every known contender, found or not, in table order.
func peerSpecs(sortieBin, benchBin string) []*contender {
	return []*contender{
		{Name: "direct", Forward: true, Connect: true, SOCKS5: true, Version: "-"},
		{Name: "bare", Connect: true, SOCKS5: true, binary: benchBin, Version: "this checkout", privileged: true,
			argv: func(dir, addr string) ([]string, error) {
				return []string{benchBin, "-role", "bare", "-addr", addr}, nil
			}},
		{Name: "sortie", Forward: true, Connect: true, SOCKS5: true, binary: sortieBin,
			versionArgv: []string{sortieBin, "version"}, versionRE: `(?m)^(.+)$`, argv: sortieArgv(sortieBin)},
		{Name: "tinyproxy", Forward: true, Connect: true, binary: "tinyproxy",
			versionArgv: []string{"tinyproxy", "-v"}, versionRE: `tinyproxy ([0-9.]+)`, argv: tinyproxyArgv},
		{Name: "squid", Forward: true, Connect: true, binary: "squid",
			versionArgv: []string{"squid", "-v"}, versionRE: `Version ([0-9.]+)`, argv: squidArgv},
		{Name: "privoxy", Forward: true, Connect: true, binary: "privoxy",
			versionArgv: []string{"privoxy", "--version"}, versionRE: `version ([0-9.]+)`, argv: privoxyArgv},
		{Name: "dante", SOCKS5: true, binary: "danted", bindsOut: true,
			versionArgv: []string{"danted", "-v"}, versionRE: `Dante v([0-9]+(?:\.[0-9]+)*)`, argv: danteArgv},
		{Name: "microsocks", SOCKS5: true, binary: "microsocks",
			versionArgv: []string{"dpkg-query", "-W", "-f", "${Version}", "microsocks"}, versionRE: `^(\S+)`,
			argv: microsocksArgv},
	}
}

// lookPeers keeps the contenders whose binary is installed and fills their versions; the
// missing ones are returned by name.
func lookPeers(all []*contender) (found []*contender, missing []string) {
	for _, c := range all {
		if c.binary != "" {
			if _, err := exec.LookPath(c.binary); err != nil && !filepath.IsAbs(c.binary) {
				missing = append(missing, c.Name)
				continue
			}
		}
		if c.versionArgv != nil {
			c.Version = peerVersion(c.versionArgv, c.versionRE)
		}
		found = append(found, c)
	}
	return found, missing
}

func peerVersion(argv []string, re string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return parseVersion(out, re)
}

// parseVersion returns the first group of re in out, or "unknown".
func parseVersion(out []byte, re string) string {
	m := regexp.MustCompile(re).FindSubmatch(out)
	if m == nil {
		return "unknown"
	}
	return strings.TrimSpace(string(m[1]))
}

// writeConf writes a config file readable by the unprivileged user the peers run as.
func writeConf(dir, name, text string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(text), 0o644)
}

func splitAddr(addr string) (host string, port int) {
	h, p, _ := net.SplitHostPort(addr)
	port, _ = strconv.Atoi(p)
	return h, port
}

// sortieArgv writes a config with the guard (every per-client and per-destination limit) off,
// connection and handshake caps (global and per source) above the 20,000 descriptors, an idle timeout longer than any run, warnings
// only in the log, the profiler on the admin socket and the origin's loopback address allowed.
func sortieArgv(bin string) func(dir, addr string) ([]string, error) {
	return func(dir, addr string) ([]string, error) {
		conf, err := writeConf(dir, "sortie.yaml", fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: %q
gateway:
  max_connections: 30000
  max_handshakes: 30000
  max_client_handshakes: 30000
  idle_timeout: 30m
  keepalive_timeout: 10m
  drain_timeout: 1s
egress:
  allow_special: [%s/32]
guard:
  enabled: false
log:
  level: warn
admin:
  pprof: true
`, filepath.Join(dir, "sortie-data"), addr, originIP))
		if err != nil {
			return nil, err
		}
		return []string{bin, "serve", "--config", conf}, nil
	}
}

func tinyproxyArgv(dir, addr string) ([]string, error) {
	host, port := splitAddr(addr)
	conf, err := writeConf(dir, "tinyproxy.conf", fmt.Sprintf(`Port %d
Listen %s
Timeout 1800
MaxClients 20000
LogLevel Critical
PidFile "%s/tinyproxy.pid"
DisableViaHeader Yes
`, port, host, dir))
	if err != nil {
		return nil, err
	}
	return []string{"tinyproxy", "-d", "-c", conf}, nil
}

func squidArgv(dir, addr string) ([]string, error) {
	conf, err := writeConf(dir, "squid.conf", fmt.Sprintf(`http_port %s
http_access allow all
cache deny all
cache_mem 0 MB
access_log none
cache_store_log none
cache_log /dev/null
logfile_rotate 0
pid_filename %s/squid.pid
coredump_dir %s
max_filedescriptors 20000
via off
forwarded_for delete
shutdown_lifetime 0 seconds
client_persistent_connections on
server_persistent_connections on
read_timeout 30 minutes
client_lifetime 1 hour
`, addr, dir, dir))
	if err != nil {
		return nil, err
	}
	return []string{"squid", "-N", "-f", conf}, nil
}

func privoxyArgv(dir, addr string) ([]string, error) {
	action, err := writeConf(dir, "bench.action", "{ +limit-connect{1-} }\n/\n")
	if err != nil {
		return nil, err
	}
	conf, err := writeConf(dir, "privoxy.conf", fmt.Sprintf(`confdir %s
actionsfile %s
listen-address %s
toggle 0
enable-remote-toggle 0
enable-edit-actions 0
max-client-connections 20000
keep-alive-timeout 600
socket-timeout 1800
connection-sharing 1
`, dir, action, addr))
	if err != nil {
		return nil, err
	}
	return []string{"privoxy", "--no-daemon", conf}, nil
}

func danteArgv(dir, addr string) ([]string, error) {
	host, port := splitAddr(addr)
	conf, err := writeConf(dir, "danted.conf", fmt.Sprintf(`logoutput: /dev/null
internal: %s port = %d
external: %s
clientmethod: none
socksmethod: none
timeout.io: 1800
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }
`, host, port, originIP))
	if err != nil {
		return nil, err
	}
	return []string{"danted", "-f", conf, "-p", filepath.Join(dir, "danted.pid")}, nil
}

func microsocksArgv(dir, addr string) ([]string, error) {
	host, port := splitAddr(addr)
	return []string{"microsocks", "-i", host, "-p", strconv.Itoa(port)}, nil
}

// tail keeps the last bytes a process wrote, for error messages.
type tail struct{ buf bytes.Buffer }

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if t.buf.Len() > 4096 {
		b := t.buf.Bytes()[t.buf.Len()-2048:]
		t.buf = *bytes.NewBuffer(append([]byte(nil), b...))
	}
	return len(p), nil
}

func (t *tail) String() string { return t.buf.String() }
