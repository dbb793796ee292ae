// Package memlimit gives a Go program in a container a heap soft limit under the
// container's memory limit, which the Go runtime does not read by itself.
package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
)

// CgroupMemoryMax is where cgroup v2 shows the container's memory limit.
const CgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// memoryLimitShare of the container's limit is the Go heap's soft limit: the rest is for
// what the Go runtime does not count (stacks of idle workers, the binary, cgo-free
// buffers of the OS). Without a soft limit the heap may grow to twice the live data
// before a collection, and a burst (the manager's make bench-memory: a peak RSS of 264 MiB
// with 10,000 sagas arriving at once) outgrows the chart's 256Mi limit and is OOM-killed.
const memoryLimitShare = 0.9

// Set gives the Go heap a soft limit of memoryLimitShare of the cgroup's
// memory limit, unless GOMEMLIMIT sets one or there is no limit. It returns the limit set,
// or 0.
func Set(readFile func(string) ([]byte, error), getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	raw, err := readFile(CgroupMemoryMax)
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
		return 0, fmt.Errorf("%s holds %q, not a number of bytes", CgroupMemoryMax, value)
	}
	soft := int64(float64(limit) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	return soft, nil
}

// FromCgroup is Set on this process's cgroup and environment, and logs what it did: the
// limit set, or why there is none. Errors are logged, not returned: a program runs
// without a soft limit as it would without this package.
func FromCgroup(log logr.Logger) {
	if soft, err := Set(os.ReadFile, os.Getenv); err != nil {
		log.Error(err, "no soft memory limit for the Go heap; set GOMEMLIMIT")
	} else if soft > 0 {
		log.Info("Go heap soft limit from the container's memory limit", "bytes", soft)
	}
}
