package main

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// TestShutdownOptions: a rolling update neither kills a batch's status write nor waits
// for the old leader's lease to expire. The manager waits for reconciles in flight at
// least the reconcile budget plus the status-write grace, and releases the lease at once.
func TestShutdownOptions(t *testing.T) {
	for _, budget := range []string{"60s", "5s", "3m"} {
		o, err := parseFlags([]string{"--reconcile-budget", budget, "--leader-elect"})
		if err != nil {
			t.Fatalf("parseFlags: %v", err)
		}
		opts := managerOptions(o, runtime.NewScheme())
		if opts.GracefulShutdownTimeout == nil || *opts.GracefulShutdownTimeout < o.reconcileBudget+2*time.Second {
			t.Errorf("budget %s: GracefulShutdownTimeout = %v, want at least the budget plus the status-write grace", budget, opts.GracefulShutdownTimeout)
		}
		if !opts.LeaderElectionReleaseOnCancel || !opts.LeaderElection {
			t.Errorf("budget %s: LeaderElection %v, LeaderElectionReleaseOnCancel %v; want both", budget, opts.LeaderElection, opts.LeaderElectionReleaseOnCancel)
		}
	}
}

func TestBadFlagsAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--max-concurrent-reconciles", "0"},
		{"--shards", "0"},
		// Sharding runs every replica; a leader would leave all but one idle.
		{"--shards", "3", "--leader-elect"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags accepted %v", args)
		}
	}
}

func TestShardsDefaultToOneManager(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.shards != 1 {
		t.Fatalf("parseFlags() = shards %d, %v; want 1, nil", o.shards, err)
	}
	o, err = parseFlags([]string{"--shards", "3", "--shard-lease-duration", "10s"})
	if err != nil || o.shards != 3 || o.shardLease.String() != "10s" {
		t.Fatalf("parseFlags(--shards 3 --shard-lease-duration 10s) = %d, %v, %v", o.shards, o.shardLease, err)
	}
}
