# syntax=docker/dockerfile:1
# One image for the manager, the services, the gateway, sagactl and the FerretDB launcher, for
# people who have a Docker engine. `make image` builds the same layout without one
# (internal/image.Product), and internal/image/dockerfile_test.go holds the final stage below
# to it: change both together.
FROM golang:1.26 AS builder
ARG VERSION=dev
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same `make build` the tests run, so this file cannot drift from what is tested.
RUN make build VERSION=${VERSION}

FROM scratch
ARG VERSION=dev
ARG REVISION=""
LABEL org.opencontainers.image.title="ordersaga" \
      org.opencontainers.image.description="OrderSaga: the saga operator, its five services, the GraphQL gateway, sagactl and the FerretDB launcher" \
      org.opencontainers.image.source="https://github.com/ordersaga/ordersaga" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /workspace/bin/manager /workspace/bin/services /workspace/bin/gateway /workspace/bin/sagactl /workspace/bin/ferretdb /
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/manager"]
