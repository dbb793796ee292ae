package image

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entry is what a layer holds at one path, as an image reader sees it.
type entry struct {
	Mode     int64
	UID, GID int
	Type     byte
	Content  string
}

// layerEntries reads every path of img's layers.
func layerEntries(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	out := map[string]entry{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatalf("uncompress layer: %v", err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read layer: %v", err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read %s: %v", h.Name, err)
			}
			out["/"+strings.TrimSuffix(h.Name, "/")] = entry{Mode: h.Mode, UID: h.Uid, GID: h.Gid, Type: h.Typeflag, Content: string(b)}
		}
		_ = rc.Close()
	}
	return out
}

// writeProgram writes a fake program and returns its path.
func writeProgram(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!program "+name), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readBack reads the archive at path both ways a loader does: as a docker-archive (its
// manifest.json) and as an OCI image layout (its index.json), and checks the two agree.
func readBack(t *testing.T, path string, tag name.Tag) v1.Image {
	t.Helper()
	docker, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("read %s as a docker-archive: %v", path, err)
	}
	dir := t.TempDir()
	untar(t, path, dir)
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("read %s as an OCI layout: %v", path, err)
	}
	im, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json has %d manifests, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	if got := d.Annotations[annotationContainerdName]; got != tag.Name() {
		t.Errorf("index.json names the image %q for containerd, want %q", got, tag.Name())
	}
	if got := d.Annotations[annotationRefName]; got != tag.TagStr() {
		t.Errorf("index.json's ref.name is %q, want the tag %q", got, tag.TagStr())
	}
	oci, err := index.Image(d.Digest)
	if err != nil {
		t.Fatalf("image %s of the layout: %v", d.Digest, err)
	}
	dockerDigest, err := docker.Digest()
	if err != nil {
		t.Fatal(err)
	}
	// The docker path re-derives the manifest from the config and layers; the config and
	// the layers must be the very blobs the OCI manifest names.
	dockerCfg, _ := docker.ConfigName()
	ociCfg, _ := oci.ConfigName()
	if dockerCfg != ociCfg {
		t.Errorf("docker-archive config %s, OCI config %s: the two views disagree (docker manifest %s)", dockerCfg, ociCfg, dockerDigest)
	}
	if diff := cmp.Diff(layerEntries(t, oci), layerEntries(t, docker)); diff != "" {
		t.Errorf("the two views' layers differ (-oci +docker):\n%s", diff)
	}
	return oci
}

func untar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProductImageRoundTrips(t *testing.T) {
	bin := t.TempDir()
	for _, p := range Programs() {
		writeProgram(t, bin, p)
	}
	const ref = "registry.example.com/team/ordersaga:v1.2.3"
	spec := Product(ProductOptions{Ref: ref, BinDir: bin, Version: "v1.2.3", Revision: "abc123"})
	img, err := Build(spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sub", "image.tar")
	if err := WriteArchive(out, tag, img); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	got := readBack(t, out, tag)

	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64 (containerd matches images by platform)", cf.OS, cf.Architecture)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/manager"}) {
		t.Errorf("entrypoint %q, want [/manager]", cf.Config.Entrypoint)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.title":    "ordersaga",
	} {
		if cf.Config.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], want)
		}
	}
	want := map[string]entry{}
	for _, p := range Programs() {
		want["/"+p] = entry{Mode: 0o755, Type: tar.TypeReg, Content: "#!program " + p}
	}
	if diff := cmp.Diff(want, layerEntries(t, got)); diff != "" {
		t.Errorf("image files (-want +got): programs owned by root, runnable by the non-root user:\n%s", diff)
	}
}

func TestSameInputsSameDigest(t *testing.T) {
	bin := t.TempDir()
	spec := Spec{Ref: "example.com/x:1", Files: []File{
		{Source: writeProgram(t, bin, "b"), Path: "/usr/bin/b"},
		{Source: writeProgram(t, bin, "a"), Path: "/a", Mode: 0o500},
	}, Dirs: []string{"/tmp"}}
	first, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(spec.Files)
	second, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	if d1 != d2 {
		t.Errorf("digests %s and %s: the same files in another order must give the same image", d1, d2)
	}
	got := layerEntries(t, first)
	for p, want := range map[string]entry{
		"/tmp":     {Mode: 0o1777, Type: tar.TypeDir},
		"/usr":     {Mode: 0o755, Type: tar.TypeDir},
		"/usr/bin": {Mode: 0o755, Type: tar.TypeDir},
		"/a":       {Mode: 0o500, Type: tar.TypeReg, Content: "#!program a"},
	} {
		if diff := cmp.Diff(want, got[p]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", p, diff)
		}
	}
}

func TestBuildRefusesBadSpecs(t *testing.T) {
	bin := t.TempDir()
	prog := writeProgram(t, bin, "p")
	for name, spec := range map[string]Spec{
		"no ref":             {Files: []File{{Source: prog, Path: "/p"}}},
		"relative path":      {Ref: "x:1", Files: []File{{Source: prog, Path: "p"}}},
		"unclean path":       {Ref: "x:1", Files: []File{{Source: prog, Path: "/a/../p"}}},
		"missing source":     {Ref: "x:1", Files: []File{{Source: filepath.Join(bin, "nope"), Path: "/p"}}},
		"relative directory": {Ref: "x:1", Dirs: []string{"tmp"}},
	} {
		if _, err := Build(spec); err == nil {
			t.Errorf("%s: Build succeeded, want an error", name)
		}
	}
}
