package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It is 100 on
// every Linux that Go supports; reading sysconf(_SC_CLK_TCK) would need cgo.
const clockTicks = 100

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	comm string
	ppid int
	cpu  time.Duration // utime + stime
}

// readProcStat reads /proc/<pid>/stat. The command name is in parentheses and may itself
// hold spaces and parentheses, so the fields are counted from the last ')'.
func readProcStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	open, closing := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("stat of pid %d: no command name in %q", pid, raw)
	}
	// After ") ": state(3) ppid(4) … utime(14) stime(15): index 0 is field 3.
	fields := strings.Fields(string(raw[closing+1:]))
	if len(fields) < 13 {
		return procStat{}, fmt.Errorf("stat of pid %d: %d fields after the name", pid, len(fields))
	}
	ppid, err1 := strconv.Atoi(fields[1])
	utime, err2 := strconv.ParseInt(fields[11], 10, 64)
	stime, err3 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("stat of pid %d: unreadable fields %q", pid, fields[:13])
	}
	return procStat{
		comm: string(raw[open+1 : closing]),
		ppid: ppid,
		cpu:  time.Duration(utime+stime) * time.Second / clockTicks,
	}, nil
}

// hostCPU returns the CPU time every process of the host has used so far, summed over
// its CPUs: the first line of /proc/stat less idle and iowait. On a shared machine it
// tells whether the cores were busy, and with what besides the benchmark's processes.
func hostCPU() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := strings.Fields(string(line))
	// cpu user nice system idle iowait irq softirq steal [guest guest_nice, counted in user]
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unreadable first line %q", line)
	}
	var busy int64
	for i, f := range fields[1:9] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: field %d of %q: %w", i+1, line, err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// processCPU returns the CPU time pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return st.cpu, nil
}

// selfCPU returns the CPU time of this process from getrusage: user plus system, with a
// finer grain than /proc/self/stat's ticks.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// childByName finds the child of this process whose command name is comm. envtest keeps
// the processes it starts unexported, so their PIDs are found by their parent: the test
// binary that started them.
func childByName(comm string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue // the process ended while we looked
		}
		if st.ppid == self && st.comm == comm {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process named %q of pid %d", comm, self)
}

// residentBytes reads a memory line of /proc/<pid>/status: VmRSS (resident now) or VmHWM
// (the peak resident set).
func residentBytes(pid int, field string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("open status of pid %d: %w", pid, err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		// "VmRSS:	   12345 kB"
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("status of pid %d: unexpected %s line %q", pid, field, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("status of pid %d: %s: %w", pid, field, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return 0, fmt.Errorf("status of pid %d has no %s", pid, field)
}
