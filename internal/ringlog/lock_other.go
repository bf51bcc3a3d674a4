//go:build !linux

package ringlog

import "errors"

// Lock would pin the ring's arena in RAM; it is only implemented on Linux.
func (r *Ring) Lock() error {
	return errors.New("ringlog: memory locking is only implemented on linux")
}
