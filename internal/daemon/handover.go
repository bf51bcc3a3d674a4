package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A running sortie hands its listening sockets to its successor on SIGUSR2: the new binary
// starts with the sockets open (so no connection attempt is refused or lost in between),
// says it is ready, and the old process stops accepting and drains its tunnels.
const (
	envListenFDs = "SORTIE_LISTEN_FDS" // comma-separated keys of the inherited sockets, fd 3 onwards
	envReadyFD   = "SORTIE_READY_FD"   // the fd on which the successor writes "ready"
	readyTimeout = 30 * time.Second
)

// handoverState holds the sockets inherited from a predecessor and those this daemon could
// pass on.
type handoverState struct {
	inherited map[string]*os.File
	opened    map[string]int // how many sockets were opened under each key
	ready     *os.File
	sockets   []socket
}

// socket is one listening socket, before any TLS wrapping, with the key that names it.
type socket struct {
	key string
	ln  net.Listener
}

// inherit takes the sockets a predecessor passed, and clears the variables so that nothing
// started later inherits them by mistake.
func (d *Daemon) inherit() {
	keys, fdText := os.Getenv(envListenFDs), os.Getenv(envReadyFD)
	os.Unsetenv(envListenFDs)
	os.Unsetenv(envReadyFD)
	d.handover.inherited = map[string]*os.File{}
	d.handover.opened = map[string]int{}
	if keys != "" {
		for i, key := range strings.Split(keys, ",") {
			d.handover.inherited[key] = os.NewFile(uintptr(3+i), key)
		}
	}
	if fd, err := strconv.Atoi(fdText); err == nil {
		d.handover.ready = os.NewFile(uintptr(fd), "ready")
	}
}

// listenTCP opens a TCP listener on addr, or takes the one a predecessor passed for it.
func (d *Daemon) listenTCP(addr string) (net.Listener, error) {
	return d.listenKey("tcp:"+addr, func() (net.Listener, error) { return net.Listen("tcp", addr) })
}

// listenUnix opens a listener on a unix socket with open, or takes the inherited one.
func (d *Daemon) listenUnix(path string, open func(string) (net.Listener, error)) (net.Listener, error) {
	return d.listenKey("unix:"+path, func() (net.Listener, error) { return open(path) })
}

func (d *Daemon) listenKey(key string, open func() (net.Listener, error)) (net.Listener, error) {
	key = d.uniqueKey(key)
	var ln net.Listener
	var err error
	if f, ok := d.handover.inherited[key]; ok {
		delete(d.handover.inherited, key)
		ln, err = net.FileListener(f)
		f.Close()
	} else {
		ln, err = open()
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.handover.sockets = append(d.handover.sockets, socket{key: key, ln: ln})
	d.mu.Unlock()
	return ln, nil
}

// uniqueKey numbers a key already taken (two listeners written "127.0.0.1:0"): setup opens
// sockets in configuration order, so a successor with the same configuration numbers them
// the same way.
func (d *Daemon) uniqueKey(key string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handover.opened[key]++
	if n := d.handover.opened[key]; n > 1 {
		return key + "#" + strconv.Itoa(n)
	}
	return key
}

// forget drops a socket a reload closed, so that an upgrade does not pass it on.
func (d *Daemon) forget(ln net.Listener) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handover.sockets = slices.DeleteFunc(d.handover.sockets, func(s socket) bool { return s.ln == ln })
}

// signalReady tells a predecessor that this daemon serves, and closes what was not used.
func (d *Daemon) signalReady() {
	for key, f := range d.handover.inherited {
		d.log.Warn("upgrade: an inherited socket is not in the configuration; closed", "socket", key)
		f.Close()
	}
	d.handover.inherited = nil
	if r := d.handover.ready; r != nil {
		fmt.Fprintf(r, "ready %d\n", os.Getpid())
		r.Close()
		d.handover.ready = nil
	}
}

// Upgrade starts the binary at the path of the running one (a new version, after a package
// upgrade) with the same arguments and the listening sockets, and waits until it is ready.
// On success the caller stops this daemon, which drains its tunnels; on failure the
// successor is stopped and this daemon goes on serving.
func (d *Daemon) Upgrade() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	files, keys, err := d.socketFiles()
	defer closeAll(files)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(strings.TrimSuffix(exe, " (deleted)"), os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = append(files, w)
	cmd.Env = append(os.Environ(), envListenFDs+"="+strings.Join(keys, ","),
		envReadyFD+"="+strconv.Itoa(3+len(files)))
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("upgrade: start %s: %w", exe, err)
	}
	pid, err := awaitReady(r)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("upgrade: the new process did not become ready: %w", err)
	}
	go cmd.Wait() // reap it if it ends before this process does
	d.log.Info("upgrade: the new process serves; draining this one", "new_pid", pid)
	return nil
}

// socketFiles duplicates every listening socket for the successor. Unix sockets are kept on
// disk when this process closes them.
func (d *Daemon) socketFiles() ([]*os.File, []string, error) {
	var files []*os.File
	var keys []string
	d.mu.Lock()
	sockets := slices.Clone(d.handover.sockets)
	d.mu.Unlock()
	for _, s := range sockets {
		fl, ok := s.ln.(interface{ File() (*os.File, error) })
		if !ok {
			continue
		}
		if ul, ok := s.ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		f, err := fl.File()
		if err != nil {
			return files, keys, err
		}
		files, keys = append(files, f), append(keys, s.key)
	}
	return files, keys, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// awaitReady reads the successor's "ready PID" line, for at most readyTimeout.
func awaitReady(r *os.File) (int, error) {
	r.SetReadDeadline(time.Now().Add(readyTimeout))
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, err
	}
	var pid int
	if _, err := fmt.Sscanf(line, "ready %d", &pid); err != nil {
		return 0, errors.New("unexpected answer from the new process")
	}
	return pid, nil
}
