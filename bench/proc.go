package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// procSample is what a proxy holds at one moment, summed over its process tree (Dante forks
// helpers; the others are one process).
type procSample struct {
	RSSKiB int64   // VmRSS
	FDs    int     // entries in /proc/PID/fd
	CPU    float64 // user + system seconds since start
	Procs  int
}

// sampleTree samples pid and every descendant.
func sampleTree(pid int) (procSample, error) {
	var s procSample
	for _, p := range append([]int{pid}, descendants(pid)...) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			if p == pid {
				return s, fmt.Errorf("read status: %w", err)
			}
			continue
		}
		rss, err := parseVmRSS(status)
		if err != nil {
			return s, err
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		_, ticks, err := parseStat(stat)
		if err != nil {
			return s, err
		}
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		s.RSSKiB += rss
		s.CPU += float64(ticks) / clockTicks
		s.FDs += len(fds)
		s.Procs++
	}
	return s, nil
}

// parseVmRSS returns the VmRSS line of /proc/PID/status in KiB.
func parseVmRSS(status []byte) (int64, error) {
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("bad VmRSS line %q", strings.TrimSpace(line))
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("no VmRSS line")
}

// parseStat returns the parent pid and utime+stime (in clock ticks) from /proc/PID/stat. The
// command name, in parentheses, may itself hold spaces and parentheses.
func parseStat(stat []byte) (ppid int, ticks int64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat: %d fields after the name", len(f))
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("stat ppid: %w", err)
	}
	ut, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("stat utime: %w", err)
	}
	st, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("stat stime: %w", err)
	}
	return ppid, ut + st, nil
}

// descendants lists the processes below root.
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if ppid, _, err := parseStat(stat); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 && len(out) < 10000 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}
