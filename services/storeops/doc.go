// Package storeops measures what whole order sagas cost the store, without Kubernetes. Its
// tests serve the five real services on one MongoDB wire-protocol server (the embedded
// FerretDB of internal/mongoserver, or MONGO_TEST_URI), each on a client whose commands are
// counted (platform.StoreMetrics), and drive the requests the order saga makes
// (internal/ordersaga/requests.go):
//
//   - TestStoreOperationsPerSaga counts the store commands of one saga by service, command
//     and collection, for the happy path and for two rollbacks, checks that every query
//     addresses one document by _id, and holds each path to its budget of commands;
//   - BenchmarkSagas runs b.N happy-path sagas, 20 at a time, and reports sagas per second
//     and the mean time of each route and store command.
//
// docs/services.md ("Store operations per saga") shows the figures and how to reproduce them.
package storeops
