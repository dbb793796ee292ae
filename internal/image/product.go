package image

import (
	"path/filepath"
)

// Programs are the files of the OrderSaga image, each at /<name>: the controller manager
// (the entrypoint), the five services (`/services <name>`), the GraphQL gateway, the CLI,
// and the FerretDB launcher that the chart's ferretdb store engine runs.
func Programs() []string { return []string{"manager", "services", "gateway", "sagactl", "ferretdb"} }

// NonRootUser is the image's user and group: distroless's "nonroot", which the chart's
// securityContext names too.
const NonRootUser = "65532:65532"

// ProductOptions say where the programs are and what to stamp on the image.
type ProductOptions struct {
	// Ref is the image reference, for example ghcr.io/ordersaga/ordersaga:v0.1.0.
	Ref string
	// BinDir holds the static programs (`make build` writes them to bin/).
	BinDir string
	// Version and Revision become the OCI version and revision labels.
	Version, Revision string
}

// Product is the OrderSaga image: FROM scratch, the programs at the root, run as a non-root
// user, labelled as the OCI image spec's pre-defined annotations say.
func Product(o ProductOptions) Spec {
	programs := Programs()
	files := make([]File, 0, len(programs))
	for _, p := range programs {
		files = append(files, File{Source: filepath.Join(o.BinDir, p), Path: "/" + p})
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "ordersaga",
		"org.opencontainers.image.description": "OrderSaga: the saga operator, its five services, the GraphQL gateway, sagactl and the FerretDB launcher",
		"org.opencontainers.image.source":      "https://github.com/ordersaga/ordersaga",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     o.Version,
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	return Spec{
		Ref:        o.Ref,
		Files:      files,
		Entrypoint: []string{"/manager"},
		User:       NonRootUser,
		WorkingDir: "/",
		Labels:     labels,
	}
}
