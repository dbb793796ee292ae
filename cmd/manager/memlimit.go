package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupMemoryMax is where cgroup v2 shows the container's memory limit.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// memoryLimitShare of the container's limit is the Go heap's soft limit: the rest is for
// what the Go runtime does not count (stacks of idle workers, the binary, cgo-free
// buffers of the OS). Without a soft limit the heap may grow to twice the live data
// before a collection, and a burst of sagas (make bench-memory: a peak RSS of 264 MiB with
// 10,000 sagas arriving at once) outgrows the chart's 256Mi limit and is OOM-killed.
const memoryLimitShare = 0.9

// setMemoryLimit gives the Go heap a soft limit of memoryLimitShare of the cgroup's
// memory limit, unless GOMEMLIMIT sets one or there is no limit. It returns the limit set,
// or 0.
func setMemoryLimit(readFile func(string) ([]byte, error), getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	raw, err := readFile(cgroupMemoryMax)
	if errors.Is(err, fs.ErrNotExist) { // no cgroup v2: outside a container, or cgroup v1
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the memory limit: %w", err)
	}
	value := strings.TrimSpace(string(raw))
	if value == "max" {
		return 0, nil
	}
	limit, err := strconv.ParseInt(value, 10, 64)
	if err != nil || limit <= 0 {
		return 0, fmt.Errorf("%s holds %q, not a number of bytes", cgroupMemoryMax, value)
	}
	soft := int64(float64(limit) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	return soft, nil
}

// setMemoryLimitFromCgroup is setMemoryLimit on this process's cgroup and environment.
func setMemoryLimitFromCgroup() (int64, error) { return setMemoryLimit(os.ReadFile, os.Getenv) }
