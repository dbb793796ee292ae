package main

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// connect returns a client for the cluster the flags and $KUBECONFIG name, and the namespace
// to work in: --namespace, else the context's namespace, else default.
func connect(f *flags) (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules() // $KUBECONFIG, else ~/.kube/config
	rules.ExplicitPath = f.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.Timeout = f.requestTimeout
	cfg.QPS, cfg.Burst = 50, 100 // retry polls; client-go's default of 5/s would throttle it
	ns := f.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("read the namespace of the kubeconfig context: %w", err)
		}
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, "", fmt.Errorf("build scheme: %w", err)
	}
	if err := eventsv1.AddToScheme(scheme); err != nil {
		return nil, "", fmt.Errorf("build scheme: %w", err)
	}
	if err := authorizationv1.AddToScheme(scheme); err != nil { // can-i's SelfSubjectAccessReview
		return nil, "", fmt.Errorf("build scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	return c, ns, nil
}
