//go:build !unix

package admin

import (
	"errors"
	"net"
)

// ListenUnix is only implemented on unix systems.
func ListenUnix(path string) (net.Listener, error) {
	return nil, errors.New("admin: unix sockets are not supported on this system")
}
