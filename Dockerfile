# syntax=docker/dockerfile:1
# One image for the manager, the services and sagactl. The build stage runs exactly
# `make build`, which the tests run too, so this file cannot drift from what is tested.
FROM golang:1.26 AS builder
ARG VERSION=dev
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build VERSION=${VERSION}

FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="ordersaga" org.opencontainers.image.version="${VERSION}"
WORKDIR /
COPY --from=builder /workspace/bin/ /
USER 65532:65532
ENTRYPOINT ["/manager"]
