// Package config owns Sortie's typed configuration tree: its defaults (an embedded default
// file), strict decoding (unknown keys and wrong types are errors with line numbers), secrets
// that redact themselves, and Validate, which reports every problem at once.
package config

import (
	"net/netip"
)

// Config is the whole configuration. Field comments are written for operators: they are
// the source of docs/configuration.md.
type Config struct {
	// Version of the configuration format. Must be 1.
	Version int `yaml:"version"`
	// DataDir holds Sortie's state. Empty means $STATE_DIRECTORY, else $XDG_STATE_HOME/sortie,
	// else ~/.local/state/sortie. Created with mode 0700.
	DataDir string `yaml:"data_dir"`
	// Listeners are the proxy ports. Each sniffs the first byte of a connection: 0x05 SOCKS5,
	// 0x04 SOCKS4/4a, anything else HTTP.
	Listeners []Listener `yaml:"listeners"`
	// Gateway holds the limits and timeouts of client connections.
	Gateway Gateway `yaml:"gateway"`
	// Egress holds how outbound connections are made.
	Egress Egress `yaml:"egress"`
	// Resolver holds how destination names are resolved.
	Resolver Resolver `yaml:"resolver"`
	// Metrics holds the Prometheus metrics endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Routes send .onion, .i2p and other suffixes to upstream proxies instead of resolving them.
	Routes Routes `yaml:"routes"`
	// ProxyUsers are the users of listeners with auth: required.
	ProxyUsers []User `yaml:"users"`
	// UsersFile names a file of more users, one "name:$argon2id$..." line each, re-read on
	// reload. Relative to this file.
	UsersFile string `yaml:"users_file"`
	// Policy holds the exit policy and the block list.
	Policy Policy `yaml:"policy"`
	// Guard holds the per-client and per-destination limits and the abuse throttles.
	Guard Guard `yaml:"guard"`
	// Notice holds the public pages: the exit notice and the block list.
	Notice Notice `yaml:"notice"`
	// Log holds the RAM-only ring log and what goes to stderr.
	Log Log `yaml:"log"`
	// Admin holds the admin endpoint (health, readiness, the ring log, pprof).
	Admin Admin `yaml:"admin"`
	// DoH holds the optional DNS-over-HTTPS endpoint.
	DoH DoH `yaml:"doh"`
	// Desk holds the abuse desk.
	Desk Desk `yaml:"desk"`

	// usersFromFile holds the users read from UsersFile.
	usersFromFile map[string]string

	// src records where the configuration came from (file name, key lines, secrets given
	// inline). It is nil for configurations built in code and for Default().
	src *source
}

// Listener is one proxy port.
type Listener struct {
	// Name identifies the listener in messages. Default: its address.
	Name string `yaml:"name"`
	// Address to listen on, ip:port. Required. Port 0 picks a free port (for tests).
	Address netip.AddrPort `yaml:"address"`
	// Protocols accepted on this listener: any of http, socks4, socks5. Default (and when
	// empty in a Config built in code): all three. "http" covers both forward requests and
	// CONNECT.
	Protocols []string `yaml:"protocols"`
	// TLSCertFile and TLSKeyFile, when both set, make this an HTTPS proxy port: clients
	// speak TLS to Sortie (curl --proxy https://..., Chrome's HTTPS proxies), then HTTP or
	// SOCKS inside. PEM files, re-read on reload.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// Auth is "required" for proxy authentication (HTTP Basic with a 407 answer, SOCKS5
	// username/password) against users, or "none" (the default).
	Auth string `yaml:"auth"`
	// ProxyProtocol, for a listener behind a front end such as HAProxy, reads the PROXY
	// protocol v1/v2 header that names the real client, from TrustedProxies only; other peers
	// are refused.
	ProxyProtocol bool `yaml:"proxy_protocol"`
	// TrustedProxies are the front ends' addresses. Required with proxy_protocol.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
}

// Gateway holds the limits and timeouts of client connections.
type Gateway struct {
	// MaxConnections caps the client connections open at once, over all listeners. Connections
	// past the cap are answered "at capacity" (HTTP 503, SOCKS5 0x01, SOCKS4 0x5B) and closed.
	MaxConnections int `yaml:"max_connections"`
	// MaxHandshakes caps the connections still in their handshake (no complete request head
	// or SOCKS request yet) over all listeners: slow clients cannot hold every slot. Past it,
	// new connections are closed at once.
	MaxHandshakes int `yaml:"max_handshakes"`
	// MaxClientHandshakes caps the connections one source (an IPv4 address, an IPv6 /64)
	// holds in their handshake, so that a few slow sources cannot take every slot.
	MaxClientHandshakes int `yaml:"max_client_handshakes"`
	// MinBodyRate is the rate, in bytes per second, a forward request's body must keep up
	// after its first ten seconds (a slowloris on bodies); 0 turns the check off.
	MinBodyRate int `yaml:"min_body_rate"`
	// MaxHeaderBytes caps the size of an HTTP request head (request line and headers).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// HandshakeTimeout bounds the wait for a complete request head or SOCKS handshake.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// KeepAliveTimeout bounds the wait for the next request on a kept-alive HTTP connection.
	KeepAliveTimeout Duration `yaml:"keepalive_timeout"`
	// IdleTimeout closes a tunnel (or a forward request) when no byte moved either way for
	// this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// DrainTimeout bounds how long a stopping Sortie waits for open tunnels to finish.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// Via, when not empty, is the pseudonym added in a Via header to forwarded HTTP requests
	// and responses. Empty (the default) adds no Via header: it would mark the traffic as
	// proxied.
	Via string `yaml:"via"`
}

// Egress holds how outbound connections are made.
type Egress struct {
	// DialTimeout bounds one outbound connection, over all addresses tried.
	DialTimeout Duration `yaml:"dial_timeout"`
	// AllowSpecial takes prefixes out of the special-purpose address table, so that
	// destinations inside them may be dialled. The gateway's own addresses can never be
	// allowed. Example: [198.51.100.0/24] for a test network.
	AllowSpecial []netip.Prefix `yaml:"allow_special"`
	// Addresses is the inventory of our exit addresses with the days each was ours. The
	// abuse desk uses it to tell whether a complaint is about us.
	Addresses []OwnAddress `yaml:"addresses"`
}

// Resolver holds how destination names are resolved.
type Resolver struct {
	// Nameservers to ask, as ip (port 53) or ip:port, [v6]:port. Empty means the system's
	// (/etc/resolv.conf).
	Nameservers []Nameserver `yaml:"nameservers"`
	// Timeout bounds one query to one upstream (UDP plus its TCP retry). A question costs at
	// most two queries, one per upstream in turn.
	Timeout Duration `yaml:"timeout"`
	// TTLFloor is the shortest time an answer stays in the cache. 0 turns the cache off:
	// every question goes upstream.
	TTLFloor Duration `yaml:"ttl_floor"`
	// TTLCeiling is the longest time an answer stays in the cache.
	TTLCeiling Duration `yaml:"ttl_ceiling"`
	// CacheSize bounds the cache, in entries (one per name and record type).
	CacheSize int `yaml:"cache_size"`
	// Disable0x20 turns off query-name case randomisation (0x20) for every upstream. It is
	// turned off by itself for an upstream that does not preserve case.
	Disable0x20 bool `yaml:"disable_0x20"`
	// NeverResolve lists name suffixes that are refused without a query, on top of onion
	// and i2p, which are never resolved.
	NeverResolve []string `yaml:"never_resolve"`
}

// Metrics holds the Prometheus metrics endpoint, served on its own listener.
type Metrics struct {
	// Address the metrics endpoint listens on, ip:port.
	Address netip.AddrPort `yaml:"address"`
	// Username for HTTP basic authentication. Empty (with an empty password) means no
	// authentication.
	Username string `yaml:"username"`
	// Password for HTTP basic authentication. May be given as password_file instead.
	Password Secret `yaml:"password"`
	// TLSCertFile and TLSKeyFile, when both set, make the endpoint serve HTTPS. PEM files,
	// read at start.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}
