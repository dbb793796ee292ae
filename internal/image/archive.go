package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name the image inside an OCI layout: containerd reads the first (a full
// reference), other OCI tools the second (the tag).
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// WriteArchive writes img, tagged ref, to path as one tarball that is both an OCI image
// layout (oci-layout, index.json, blobs/) and a docker-archive (manifest.json pointing at
// the same blobs), as `docker save` writes since Docker 25. Each reader takes the part it
// knows, so one file serves `docker load`, `kind load image-archive`, `ctr images import`
// and `crane push`.
func WriteArchive(path string, ref name.Tag, img v1.Image) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("write image archive: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write image archive: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := writeArchive(tmp, ref, img); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	// CreateTemp makes it 0600; the archive is no secret, and loaders may run as another user.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // G302: see above
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	// Renamed into place, so that a reader never sees half an archive.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	return nil
}

// dockerManifest is one entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// archiveWriter writes an archive's entries; each blob once.
type archiveWriter struct {
	tw    *tar.Writer
	blobs map[string]bool
}

// blob writes one content-addressed blob and returns its path in the archive.
func (a *archiveWriter) blob(h v1.Hash, size int64, open func() (io.ReadCloser, error)) (string, error) {
	p := "blobs/" + h.Algorithm + "/" + h.Hex
	if a.blobs[p] {
		return p, nil
	}
	a.blobs[p] = true
	rc, err := open()
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	defer func() { _ = rc.Close() }()
	if err := a.tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: size, ModTime: epoch(), Typeflag: tar.TypeReg}); err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	if _, err := io.Copy(a.tw, rc); err != nil {
		return "", fmt.Errorf("blob %s: %w", h, err)
	}
	return p, nil
}

func (a *archiveWriter) bytesBlob(h v1.Hash, b []byte) (string, error) {
	return a.blob(h, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// json writes one JSON file at the archive's top level.
func (a *archiveWriter) json(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch(), Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := a.tw.Write(b); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// imageBlobs writes the config, the layers and the manifest of img and returns the config's
// and the layers' paths, which the docker-archive's manifest.json lists.
func (a *archiveWriter) imageBlobs(img v1.Image) (string, []string, error) {
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return "", nil, fmt.Errorf("read the config: %w", err)
	}
	configName, err := img.ConfigName()
	if err != nil {
		return "", nil, fmt.Errorf("read the config digest: %w", err)
	}
	configPath, err := a.bytesBlob(configName, rawConfig)
	if err != nil {
		return "", nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return "", nil, fmt.Errorf("read the layers: %w", err)
	}
	layerPaths := make([]string, 0, len(layers))
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return "", nil, fmt.Errorf("layer digest: %w", err)
		}
		size, err := l.Size()
		if err != nil {
			return "", nil, fmt.Errorf("layer size: %w", err)
		}
		p, err := a.blob(d, size, l.Compressed)
		if err != nil {
			return "", nil, err
		}
		layerPaths = append(layerPaths, p)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return "", nil, fmt.Errorf("read the manifest: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", nil, fmt.Errorf("read the digest: %w", err)
	}
	if _, err := a.bytesBlob(digest, rawManifest); err != nil {
		return "", nil, err
	}
	return configPath, layerPaths, nil
}

func writeArchive(w io.Writer, ref name.Tag, img v1.Image) error {
	a := &archiveWriter{tw: tar.NewWriter(w), blobs: map[string]bool{}}
	configPath, layerPaths, err := a.imageBlobs(img)
	if err != nil {
		return err
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		return fmt.Errorf("describe the image: %w", err)
	}
	desc.ArtifactType = "" // an image, not an artifact: partial.Descriptor fills it from the config
	desc.Annotations = map[string]string{annotationContainerdName: ref.Name(), annotationRefName: ref.TagStr()}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{*desc}}
	if err := a.json("oci-layout", map[string]string{"imageLayoutVersion": "1.0.0"}); err != nil {
		return err
	}
	if err := a.json("index.json", index); err != nil {
		return err
	}
	if err := a.json("manifest.json", []dockerManifest{{Config: configPath, RepoTags: []string{ref.Name()}, Layers: layerPaths}}); err != nil {
		return err
	}
	if err := a.tw.Close(); err != nil {
		return fmt.Errorf("close the archive: %w", err)
	}
	return nil
}
