// Package image builds container images without a daemon: FROM scratch, one layer of local
// files, a platform, a user and labels, written as one tarball that `docker load`,
// `kind load image-archive`, `ctr images import` and `crane push` all read.
//
// Why not the Dockerfile: no Docker engine runs on the machines that build and test this
// project. Product describes the OrderSaga image once; the Dockerfile must produce the same
// layout, and dockerfile_test.go holds the two to each other.
package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one file copied into the image.
type File struct {
	// Source is the file on disk.
	Source string
	// Path is the absolute path in the image.
	Path string
	// Mode is the file's permission bits; zero means 0755 (the files are programs).
	Mode int64
}

// Spec describes an image built FROM scratch.
type Spec struct {
	// Ref is the image reference it is tagged with, for example ghcr.io/ordersaga/ordersaga:v0.1.0.
	Ref   string
	Files []File
	// Dirs are empty directories to create (mode 0755, /tmp gets 1777), for example mount points.
	Dirs       []string
	Entrypoint []string
	Cmd        []string
	// User is "uid" or "uid:gid"; numeric, because a scratch image has no /etc/passwd.
	User       string
	WorkingDir string
	Env        []string
	Labels     map[string]string
	// OS and Architecture default to linux/amd64. containerd matches images by platform,
	// and empty.Image has none.
	OS, Architecture string
}

// epoch is every timestamp in the image, so that the same inputs give the same digest.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// Build makes the image that spec describes. It reads every file into memory: the files are
// a few static binaries.
func Build(spec Spec) (v1.Image, error) {
	if spec.Ref == "" {
		return nil, errors.New("image spec: ref is empty")
	}
	layer, err := filesLayer(spec.Files, spec.Dirs)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Ref, err)
	}
	// OCI media types throughout: the archive is an OCI image layout first.
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("image %s: append the layer: %w", spec.Ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: read the config: %w", spec.Ref, err)
	}
	cf = cf.DeepCopy()
	cf.OS = cmp.Or(spec.OS, "linux")
	cf.Architecture = cmp.Or(spec.Architecture, "amd64")
	cf.Created = v1.Time{Time: epoch()}
	cf.Config.Env = append([]string{"PATH=/"}, spec.Env...)
	cf.Config.Entrypoint = spec.Entrypoint
	cf.Config.Cmd = spec.Cmd
	cf.Config.User = spec.User
	cf.Config.WorkingDir = spec.WorkingDir
	cf.Config.Labels = spec.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image %s: set the config: %w", spec.Ref, err)
	}
	return img, nil
}

// filesLayer is one uncompressed tar of the files and the directories that hold them, owned
// by root and readable by all: the image's non-root user runs them but cannot change them.
func filesLayer(files []File, extraDirs []string) (v1.Layer, error) {
	dirs, err := layerDirs(files, extraDirs)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: mode, ModTime: epoch(), Typeflag: tar.TypeDir, Format: tar.FormatPAX}); err != nil {
			return nil, fmt.Errorf("directory %s: %w", d, err)
		}
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range sorted {
		data, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, fmt.Errorf("file for %s: %w", f.Path, err)
		}
		mode := cmp.Or(f.Mode, 0o755)
		hdr := &tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Mode: mode, Size: int64(len(data)), ModTime: epoch(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("file %s: %w", f.Path, err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("file %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close the layer: %w", err)
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("make the layer: %w", err)
	}
	return layer, nil
}

// layerDirs are the directories the layer holds, without their leading slash, sorted so that
// parents come before their children and the digest is stable.
func layerDirs(files []File, extraDirs []string) ([]string, error) {
	dirs := map[string]bool{}
	addParents := func(p string) {
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			dirs[strings.TrimPrefix(d, "/")] = true
		}
	}
	for _, d := range extraDirs {
		if !path.IsAbs(d) {
			return nil, fmt.Errorf("directory %q: not an absolute path", d)
		}
		dirs[strings.TrimPrefix(path.Clean(d), "/")] = true
		addParents(path.Clean(d))
	}
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("file %s: path %q in the image is not a clean absolute path", f.Source, f.Path)
		}
		addParents(f.Path)
	}
	return slices.Sorted(maps.Keys(dirs)), nil
}
