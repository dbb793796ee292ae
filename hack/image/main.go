// Command image builds a FROM-scratch container image without a daemon and writes it as one
// tarball (OCI layout and docker-archive in one), or pushes such a tarball to a registry.
//
//	go run ./hack/image -product -bin bin -ref ghcr.io/ordersaga/ordersaga:v0.1.0 -version v0.1.0 -o bin/ordersaga-image.tar
//	go run ./hack/image -ref ordersaga.local/pause:1 -o pause.tar -entrypoint /pause -user 65535 bin/pause:/pause
//	go run ./hack/image -push -ref registry.example.com/team/ordersaga:v0.1.0 bin/ordersaga-image.tar
//
// `make image` and `make image-push` run it; hack/cluster.sh builds the cluster's own images with it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/ordersaga/ordersaga/internal/image"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	ref := fs.String("ref", "", "image reference (registry/name:tag)")
	out := fs.String("o", "", "output tarball")
	product := fs.Bool("product", false, "build the OrderSaga image from the programs in -bin")
	push := fs.Bool("push", false, "push the tarball given as the argument to -ref (credentials: ~/.docker/config.json)")
	bin := fs.String("bin", "bin", "-product: folder of the static programs")
	version := fs.String("version", "dev", "-product: the OCI version label")
	revision := fs.String("revision", "", "-product: the OCI revision label (a commit)")
	entrypoint := fs.String("entrypoint", "", "comma-separated entrypoint")
	cmd := fs.String("cmd", "", "comma-separated default arguments")
	user := fs.String("user", "", "uid or uid:gid")
	var labels, dirs listFlag
	fs.Var(&labels, "label", "KEY=VALUE label (repeatable)")
	fs.Var(&dirs, "dir", "empty directory to create, for example /tmp (repeatable)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	tag, err := name.NewTag(*ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-ref %q: %w", *ref, err)
	}
	if *push {
		if fs.NArg() != 1 {
			return errors.New("-push takes one tarball argument")
		}
		return pushArchive(fs.Arg(0), tag)
	}
	if *out == "" {
		return errors.New("-o is required")
	}
	var spec image.Spec
	if *product {
		spec = image.Product(image.ProductOptions{Ref: *ref, BinDir: *bin, Version: *version, Revision: *revision})
	} else {
		spec, err = customSpec(*ref, fs.Args(), *entrypoint, *cmd, *user, labels, dirs)
		if err != nil {
			return err
		}
	}
	img, err := image.Build(spec)
	if err != nil {
		return err
	}
	if err := image.WriteArchive(*out, tag, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("image digest: %w", err)
	}
	fmt.Fprintf(os.Stdout, "%s %s -> %s\n", tag.Name(), digest, *out)
	return nil
}

// customSpec is an image of the SRC:DEST[:MODE] files given as arguments.
func customSpec(ref string, files []string, entrypoint, cmd, user string, labels, dirs []string) (image.Spec, error) {
	spec := image.Spec{Ref: ref, User: user, Dirs: dirs, Entrypoint: splitList(entrypoint), Cmd: splitList(cmd)}
	if len(files) == 0 {
		return spec, errors.New("no SRC:DEST[:MODE] file arguments")
	}
	for _, f := range files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return spec, fmt.Errorf("file %q: want SRC:DEST[:MODE]", f)
		}
		file := image.File{Source: parts[0], Path: parts[1]}
		if len(parts) == 3 {
			mode, err := strconv.ParseInt(parts[2], 8, 64)
			if err != nil {
				return spec, fmt.Errorf("file %q: mode: %w", f, err)
			}
			file.Mode = mode
		}
		spec.Files = append(spec.Files, file)
	}
	if len(labels) > 0 {
		spec.Labels = map[string]string{}
		for _, l := range labels {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return spec, fmt.Errorf("-label %q: want KEY=VALUE", l)
			}
			spec.Labels[k] = v
		}
	}
	return spec, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// pushArchive reads the image from a tarball this command wrote and pushes it to tag.
func pushArchive(path string, tag name.Tag) error {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := remote.Write(tag, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %w", tag.Name(), err)
	}
	fmt.Fprintf(os.Stdout, "pushed %s\n", tag.Name())
	return nil
}
