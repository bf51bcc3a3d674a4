package ringlog

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// SwapOn reports whether the kernel lists any active swap area in /proc/swaps. It reports false
// when the file cannot be read (no /proc, or not Linux).
func SwapOn() bool {
	f, err := os.Open("/proc/swaps")
	if err != nil {
		return false
	}
	defer f.Close()
	return swapListed(f)
}

// swapListed reports whether a /proc/swaps listing names at least one swap area below its
// header line.
func swapListed(r io.Reader) bool {
	sc := bufio.NewScanner(r)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		if strings.TrimSpace(sc.Text()) != "" {
			return true
		}
	}
	return false
}
