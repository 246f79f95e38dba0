# syntax=docker/dockerfile:1
# daytwo's image, as `make image` writes it without a Docker daemon (internal/image); a
# test there keeps the two in step (files, modes, user, entrypoint, cmd, labels, build flags).
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t ghcr.io/daytwo-dev/daytwo:TAG .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/daytwo-dev/daytwo/internal/server.Version=${VERSION}" -o /out/daytwo ./cmd/app

FROM debian:bookworm-slim AS certs
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
COPY --chmod=0644 internal/image/etc/group internal/image/etc/passwd /etc/
COPY --from=certs --chmod=0644 /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chmod=0755 /out/daytwo /usr/local/bin/daytwo
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/daytwo"]
CMD ["serve"]
LABEL org.opencontainers.image.source="https://github.com/daytwo-dev/daytwo" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"
