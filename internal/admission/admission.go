// Package admission installs the finalizer admission policy of config/admission on an API
// server, as the chart and kustomize do, and waits until the API server applies it. The
// local stack and the benchmark use it; a cluster gets the policy from its manifests.
package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ProbeSample is the saga the local stack and the benchmark probe the policy with: the
// repository's completed OrderSaga sample, under root.
func ProbeSample(root string) string {
	return filepath.Join(root, "config", "samples", "saga_v1alpha1_ordersaga_completed.yaml")
}

// Applied is what Apply installed.
type Applied struct {
	// Files are the YAML files whose objects were created.
	Files []string
	// Delay is how long after their creation a new OrderSaga first got the finalizer.
	Delay time.Duration
}

// Apply creates every object of every YAML file in dir, then dry-run creates the saga of
// probeManifest in namespace until it comes back with a finalizer it was sent without:
// policies take effect a moment after they are created, and until then a create can even
// be refused. A missing folder applies nothing.
func Apply(ctx context.Context, c client.Client, dir, probeManifest, namespace string) (Applied, error) {
	files, err := yamlFiles(dir)
	if err != nil || len(files) == 0 {
		return Applied{}, err
	}
	probes, err := objectsIn(probeManifest)
	if err != nil {
		return Applied{}, err
	}
	if len(probes) != 1 {
		return Applied{}, fmt.Errorf("%s holds %d objects, want one saga to probe the policy with", probeManifest, len(probes))
	}
	probe := probes[0]
	probe.SetNamespace(namespace)
	for _, f := range files {
		if err := applyFile(ctx, c, f); err != nil {
			return Applied{}, err
		}
	}
	delay, err := waitForFinalizerAtCreate(ctx, c, probe)
	if err != nil {
		return Applied{}, err
	}
	return Applied{Files: files, Delay: delay}, nil
}

func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || isKustomization(name) || (!strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")) {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	return files, nil
}

// isKustomization tells kustomize's own file, which lists the objects rather than being one.
func isKustomization(name string) bool {
	return name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization"
}

// applyFile creates each object of a YAML file.
func applyFile(ctx context.Context, c client.Client, path string) error {
	objs, err := objectsIn(path)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %s %s from %s (is the kind served by this API server?): %w",
				obj.GetKind(), obj.GetName(), path, err)
		}
	}
	return nil
}

// objectsIn decodes the objects of a YAML file; a document without a kind is no object.
func objectsIn(path string) ([]*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: a file of the repository's config/
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		if obj.GetKind() != "" && obj.GetKind() != "Kustomization" {
			objs = append(objs, obj)
		}
	}
}

// waitForFinalizerAtCreate dry-run creates probe until it comes back with a finalizer it
// did not have, and returns how long that took.
func waitForFinalizerAtCreate(ctx context.Context, c client.Client, probe client.Object) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(time.Minute)
	for {
		obj, ok := probe.DeepCopyObject().(client.Object)
		if !ok {
			return 0, fmt.Errorf("probe %T is not a client.Object", probe)
		}
		err := c.Create(ctx, obj, client.DryRunAll)
		switch {
		case err == nil && len(obj.GetFinalizers()) > len(probe.GetFinalizers()):
			return time.Since(start), nil
		case err != nil && !meta.IsNoMatchError(err) && !apierrors.IsServiceUnavailable(err):
			// 503: the policy's dispatcher has no type converter for a CRD's kind until the API
			// server has refreshed its OpenAPI models, a few seconds after the CRD was served.
			return 0, fmt.Errorf("dry-run create of the probe %s: %w", probe.GetName(), err)
		}
		if time.Now().After(deadline) && err != nil {
			return 0, fmt.Errorf("admission policies applied, but after a minute a new saga is still refused: %w", err)
		}
		if time.Now().After(deadline) {
			return 0, errors.New("admission policies applied, but after a minute a new saga still gets no finalizer")
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for the admission policy: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
