# Build stage: the same `make build` CI runs, a static binary (CGO off).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN make build VERSION=${VERSION} COMMIT=${COMMIT}

# Final stage: distroless static, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/kube-state-push /kube-state-push
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/kube-state-push"]
