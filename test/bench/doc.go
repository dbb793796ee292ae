// Package bench measures the OrderSaga controller end to end on a real API server
// (envtest's kube-apiserver and etcd) with the FAKE services of
// internal/testing/fakeservices (the in-memory service models over loopback HTTP), and
// reports what it measured as markdown, never against a target.
//
// Every mode reports the controller next to the API server's own ceilings for
// OrderSagas, measured in the same run with the controller off: creates alone, and
// creates each followed by one status patch. Completions are seen by one watch per
// namespace, opened before the first create; the ceilings carry the same watch, so that
// its cost weighs on both sides of a ratio, and the status ceiling runs once more
// without it, for comparison. Requests are counted twice: by the
// manager's transport (by verb and resource), and by the API server's
// apiserver_request_total (every client). CPU is read from /proc for kube-apiserver, etcd
// and the manager's process.
//
// Modes (-bench.mode): closed (`make bench`: closed loop and ceilings), openloop
// (`make bench-openloop`: saturation search and latency at 25-90 % of it), latency
// (`make bench-latency`: service delay against worker count, cmd/manager in its own
// process, with where its workers' time went by its own /metrics: reconciles and requeues
// per saga, busy workers, queue wait, service calls, the API server's time per write, and
// the CPU of every process on the host), memory (`make bench-memory`: cmd/manager's RSS and heap with 10,000
// finished sagas in its cache, its live heap after a forced collection, and that heap
// profile beside the report) and replicas (`make bench-replicas`: the closed loop on 1,
// 2 and 3 cmd/manager replicas with --shards, and each replica's reconciles, CPU and
// RSS). The benchmark runs only with -bench (TestMain starts nothing otherwise) and with
// -benchtime 1x: the load is set by flags, not by b.N.
package bench
