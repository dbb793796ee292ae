package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// CacheOptions are the informer cache settings the reconcilers are built for: they read
// every saga from the cache, so the cache holds each saga once, without its
// managedFields — server-side apply's bookkeeping, which no reconciler reads and which
// can be as large as the saga. namespace, when set, limits the cache to one namespace.
func CacheOptions(namespace string) cache.Options {
	o := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if namespace != "" {
		o.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	return o
}
