package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the benchmark started, measured from /proc.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// startProc starts bin with args, its output in logPath.
func startProc(name, logPath, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: f}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// exited returns an error if the process has ended.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v (log %s)", p.name, p.cmd.ProcessState, p.log.Name())
	default:
		return nil
	}
}

// stop sends SIGTERM, then SIGKILL after 20 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// usage is what /proc says of a process at one moment.
type usage struct {
	cpu  time.Duration // user + system
	rss  int64         // bytes
	file int64         // RssFile: the part of rss that maps files (the binary), bytes
	peak int64         // VmHWM, bytes
}

// clockTick is USER_HZ, 100 on every Linux platform Go supports.
const clockTick = 100

func (p *proc) usage() (usage, error) { return pidUsage(p.cmd.Process.Pid) }

// pidUsage reads /proc/<pid>/stat and /proc/<pid>/status.
func pidUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return usage{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return usage{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return usage{}, fmt.Errorf("/proc/%d/stat: bad cpu times", pid)
	}
	u := usage{cpu: time.Duration(utime+stime) * time.Second / clockTick}
	st, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	defer st.Close()
	sc := bufio.NewScanner(st)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "RssFile") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return usage{}, fmt.Errorf("/proc/%d/status %s: %q", pid, k, v)
		}
		switch k {
		case "VmRSS":
			u.rss = kb << 10
		case "RssFile":
			u.file = kb << 10
		default:
			u.peak = kb << 10
		}
	}
	return u, sc.Err()
}

// group is the processes of one side, measured as a sum.
type group []*proc

// usage returns the sum over the group and, apart, its first process's share.
func (g group) usage() (sum, first usage, err error) {
	for i, p := range g {
		u, err := p.usage()
		if err != nil {
			return usage{}, usage{}, fmt.Errorf("%s: %w", p.name, err)
		}
		if i == 0 {
			first = u
		}
		sum.cpu += u.cpu
		sum.rss += u.rss
		sum.file += u.file
		sum.peak += u.peak
	}
	return sum, first, nil
}

func (g group) exited() error {
	for _, p := range g {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

func (g group) stop() {
	for i := len(g) - 1; i >= 0; i-- {
		g[i].stop()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pidProc is a process another program started (hack/receivers.sh), known by
// the pid it wrote in a pid file. The benchmark measures it; the program that
// started it stops it.
type pidProc struct {
	name string
	pid  int
}

func (p pidProc) usage() (usage, error) { return pidUsage(p.pid) }

// readPidFiles reads dir/*.pid, each holding one pid, sorted by name.
func readPidFiles(dir string) ([]pidProc, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pid"))
	if err != nil {
		return nil, err
	}
	var out []pidProc
	for _, f := range files { // Glob sorts
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%s: no pid in %q", f, b)
		}
		out = append(out, pidProc{name: strings.TrimSuffix(filepath.Base(f), ".pid"), pid: pid})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no pid files in %s", dir)
	}
	return out, nil
}
