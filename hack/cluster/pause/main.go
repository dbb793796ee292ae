// Command pause is the sandbox process of every pod in the development cluster (hack/cluster.sh):
// the first process of a pod, whose only job is to hold the pod's namespaces until the pod is
// stopped. The cluster has no registry to pull the upstream pause image from, so hack/cluster.sh
// builds this one into a FROM-scratch image and names it as containerd's sandbox_image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			return
		}
		reap()
	}
}

// reap collects every exited child without blocking. When a pod shares its process namespace,
// pause is its PID 1 and inherits the orphans; one SIGCHLD can stand for several exits.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
