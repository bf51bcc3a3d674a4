package config

import (
	"os"
	"strconv"

	"sortie.dev/sortie/internal/auth"
)

// The values of listeners[].auth.
const (
	AuthNone     = "none"     // no proxy authentication (the default)
	AuthRequired = "required" // HTTP Basic (407) and SOCKS5 username/password (RFC 1929)
)

// User is one proxy user.
type User struct {
	// Name is the user name: 1 to 255 bytes, no colon.
	Name string `yaml:"name"`
	// PasswordHash is the argon2id hash of the password in PHC form, as printed by
	// `sortie user hash`. May be given as password_hash_file instead.
	PasswordHash Secret `yaml:"password_hash"`
}

// Users returns every proxy user, name to PHC hash: those of users and those of
// users_file. Call it on a validated configuration.
func (c *Config) Users() map[string]string {
	out := map[string]string{}
	for _, u := range c.ProxyUsers {
		out[u.Name] = u.PasswordHash.Reveal()
	}
	for name, h := range c.usersFromFile {
		out[name] = h
	}
	return out
}

// loadUsersFile reads users_file, reporting its problems at the key's line.
func (c *Config) loadUsersFile(p *problems) {
	c.usersFromFile = nil
	if c.UsersFile == "" {
		return
	}
	f, err := os.Open(c.Path(c.UsersFile))
	if err != nil {
		p.add("users_file", "%v", err)
		return
	}
	defer f.Close()
	users, err := auth.ParseUsersFile(f)
	if err != nil {
		p.add("users_file", "%v", err)
		return
	}
	c.usersFromFile = users
}

// validateAuth checks the users and that listeners requiring authentication have some.
func (c *Config) validateAuth(p *problems) {
	seen := map[string]bool{}
	for i, u := range c.ProxyUsers {
		path := "users[" + strconv.Itoa(i) + "]"
		if err := auth.ValidateUserName(u.Name); err != nil {
			p.add(path+".name", "%v", err)
		}
		if seen[u.Name] {
			p.add(path+".name", "user %q is listed twice", u.Name)
		}
		seen[u.Name] = true
		if h, err := auth.ParseHash(u.PasswordHash.Reveal()); err != nil {
			p.add(path+".password_hash", "%v (create one with: sortie user hash)", err)
		} else if err := h.Params.CheckStrength(0); err != nil {
			p.add(path+".password_hash", "%v", err)
		}
	}
	for name := range c.usersFromFile {
		if seen[name] {
			p.add("users_file", "user %q is also in users", name)
		}
	}
	required := false
	for i, l := range c.Listeners {
		switch l.Auth {
		case "", AuthNone:
		case AuthRequired:
			required = true
		default:
			p.add("listeners["+strconv.Itoa(i)+"].auth", "want %q or %q, got %q", AuthNone, AuthRequired, l.Auth)
		}
	}
	if required && len(c.ProxyUsers)+len(c.usersFromFile) == 0 {
		p.add("users", "a listener requires authentication: list users here or in users_file")
	}
}
