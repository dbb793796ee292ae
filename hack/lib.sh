#!/usr/bin/env bash
# Shared settings for the hack/ scripts: where tools are cached and how Go builds them.
# Tools live outside the work tree, keyed by name and version, so that a new clone reuses them.

ORDERSAGA_CACHE="${ORDERSAGA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ordersaga}"
# shellcheck disable=SC2034 # read by the scripts that source this file
TOOLS_DIR="${ORDERSAGA_CACHE}/tools"

# Never let the go command fetch another toolchain behind our back, and keep the
# project's go.work (if any) and GOFLAGS out of tool builds.
export GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# tool_go_env runs "$@" with the environment the offline toolchain notes measured.
tool_go_env() { env GOWORK=off GOFLAGS= CGO_ENABLED=0 "$@"; }

# k8s_ldflags VERSION prints the -ldflags that stamp a Kubernetes release version: without
# them the binaries report v0.0.0, and the cache checks go by the version a binary reports.
k8s_ldflags() {
	local minor="${1#*.}" ld="-s -w" pkg
	minor="${minor%%.*}"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld="${ld} -X ${pkg}.gitVersion=v$1 -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean"
	done
	echo "${ld}"
}

# go_wrapper_build DEST LDFLAGS PKG@VERSION... builds the main packages into DEST from the Go
# module proxy, in a throwaway wrapper module (never the project's go.mod), with the default Go
# caches so that every tool build shares them. All packages go through ONE go build, which keeps
# both cores busy. When one of them comes from k8s.io/kubernetes, its staging modules are pinned
# to the release: k8s.io/kubernetes requires them at v0.0.0 and fixes that with ./staging
# replaces, which do not apply to a dependent module.
go_wrapper_build() (
	set -euo pipefail
	dest=$1 ldflags=$2
	shift 2
	work=$(mktemp -d)
	trap 'rm -rf "${work}"' EXIT
	cd "${work}"
	tool_go_env go mod init ordersaga.local/tool-build >/dev/null 2>&1
	k8s=""
	pkgs=()
	for t in "$@"; do
		pkgs+=("${t%@*}")
		case "${t}" in k8s.io/kubernetes/*) k8s="${t##*@v}" ;; esac
	done
	if [ -n "${k8s}" ]; then
		gomod=$(tool_go_env go mod download -json "k8s.io/kubernetes@v${k8s}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
		awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "${gomod}" | sort -u | while read -r m; do
			echo "replace ${m} => ${m} v0${k8s#1}" >>go.mod
		done
	fi
	tool_go_env go get -tool "$@" >&2
	mkdir out
	tool_go_env go build -ldflags "${ldflags}" -o out/ "${pkgs[@]}" >&2
	# go build names a binary after its package's last path element: etcd's server/v3 gives "server".
	[ ! -e out/server ] || mv out/server out/etcd
	mkdir -p "${dest}"
	mv out/* "${dest}/"
)
