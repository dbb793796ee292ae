package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// applyAdmission creates every object of every YAML file in dir and waits until the API
// server adds the finalizer to a new OrderSaga (policies take effect a moment after they
// are created). It returns the files applied; a missing folder applies nothing.
func applyAdmission(ctx context.Context, s *Stack, dir string) ([]string, error) {
	files, err := yamlFiles(dir)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	for _, f := range files {
		if err := applyFile(ctx, s.Client, f); err != nil {
			return nil, err
		}
	}
	if err := waitForFinalizerAtCreate(ctx, s); err != nil {
		return nil, err
	}
	return files, nil
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

// applyFile creates each object of a YAML file; a document without a kind is no object.
func applyFile(ctx context.Context, c client.Client, path string) error {
	raw, err := os.ReadFile(path) //nolint:gosec // G304: a file of the repository's config/admission
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decode %s: %w", path, err)
		}
		if obj.GetKind() == "" || obj.GetKind() == "Kustomization" {
			continue
		}
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %s %s from %s (if the kind is not served, pass -bench.apiserver-args): %w",
				obj.GetKind(), obj.GetName(), path, err)
		}
	}
}

// waitForFinalizerAtCreate creates dry-run OrderSagas until one comes back with the
// finalizer, so that no measured saga is created before the policy applies.
func waitForFinalizerAtCreate(ctx context.Context, s *Stack) error {
	ns, err := s.NewNamespace(ctx, "admission-probe")
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(time.Minute)
	for i := 0; ; i++ {
		saga := testgen.OrderSaga(fmt.Sprintf("probe-%d", i), testgen.WithNamespace(ns))
		err := s.Client.Create(ctx, saga, client.DryRunAll)
		switch {
		case err == nil && slices.Contains(saga.Finalizers, controllers.Finalizer):
			s.AdmissionDelay = time.Since(start)
			return nil
		case err != nil && !meta.IsNoMatchError(err) && !apierrors.IsServiceUnavailable(err):
			// 503: the policy's dispatcher has no type converter for a CRD's kind until the API
			// server has refreshed its OpenAPI models, a few seconds after the CRD was served.
			return fmt.Errorf("dry-run create of a probe saga: %w", err)
		}
		if time.Now().After(deadline) && err != nil {
			return fmt.Errorf("admission policies applied, but after a minute a new OrderSaga is still refused: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("admission policies applied, but after a minute a new OrderSaga still has no %s finalizer", controllers.Finalizer)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
