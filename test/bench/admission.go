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
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files, nil
}

// applyFile creates each document of a YAML file, skipping empty ones and kustomize's
// kustomization.yaml, which is not an object.
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
		if len(obj.Object) == 0 || obj.GetKind() == "Kustomization" {
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
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		saga := testgen.OrderSaga(fmt.Sprintf("probe-%d", i), testgen.WithNamespace(ns))
		if err := s.Client.Create(ctx, saga, client.DryRunAll); err != nil {
			return fmt.Errorf("dry-run create of a probe saga: %w", err)
		}
		if slices.Contains(saga.Finalizers, controllers.Finalizer) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("config/admission applied, but after 30s a new OrderSaga still has no %s finalizer", controllers.Finalizer)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
