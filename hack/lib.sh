#!/usr/bin/env bash
# Shared settings for the hack/ scripts: where tools are cached and how Go builds them.
# Tools live outside the work tree, keyed by name and version, so that a new clone reuses them.

ORDERSAGA_CACHE="${ORDERSAGA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ordersaga}"
TOOLS_DIR="${ORDERSAGA_CACHE}/tools"

# Never let the go command fetch another toolchain behind our back, and keep the
# project's go.work (if any) and GOFLAGS out of tool builds.
export GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# tool_go_env runs "$@" with the environment the offline toolchain notes measured.
tool_go_env() { env GOWORK=off GOFLAGS= CGO_ENABLED=0 "$@"; }
