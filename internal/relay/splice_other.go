//go:build !linux

package relay

import "net"

// defaultMode is how Pipe moves bytes between two TCP conns: the runtime's ReadFrom, which
// splices where the system has splice.
var defaultMode = modeReadFrom

// pipePool is not used without Linux's splice.
type pipePool struct{}

var pipes *pipePool

func (t *tunnel) copySplice(dst, src *net.TCPConn, dir int) (int64, error) {
	return t.copyReadFrom(dst, src, dir)
}
