# syntax=docker/dockerfile:1
# The infra-guard container image: a static binary on distroless, run as
# the non-root user (uid 65532), in /guard (mount your guard script there).
#
#   docker build --build-arg VERSION=v0.1.0 -t infra-guard .
#   docker run --rm -v "$PWD:/guard:ro" infra-guard run guard.star
#
# The release workflow builds it for linux/amd64 and linux/arm64. CI here
# reaches no registry, so .ci/container.sh builds the equivalent image from
# scratch (binary, CA bundle, a passwd line for the same user) with buildah
# and runs it.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS TARGETARCH TARGETVARIANT
ARG VERSION=""
ARG COMMIT=""
ARG COMMIT_TIME=""
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN GOARM="${TARGETVARIANT#v}" CGO_ENABLED=0 GOOS="$TARGETOS" GOARCH="$TARGETARCH" \
    go build -trimpath -o /out/infra-guard \
      -ldflags "-s -w \
        -X github.com/infra-guard/infra-guard/buildinfo.Version=${VERSION} \
        -X github.com/infra-guard/infra-guard/buildinfo.Commit=${COMMIT} \
        -X github.com/infra-guard/infra-guard/buildinfo.CommitTime=${COMMIT_TIME}" \
      .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/infra-guard /usr/bin/infra-guard
WORKDIR /guard
USER nonroot:nonroot
ENTRYPOINT ["/usr/bin/infra-guard"]
