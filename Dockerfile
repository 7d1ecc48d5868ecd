# taxiihub: a static binary on an empty base, run as a non-root user.
#   docker build -t taxiihub .
#   docker run -p 8080:8080 -v taxiihub-data:/var/lib/taxiihub \
#     -v $PWD/hub.yaml:/etc/taxiihub/hub.yaml:ro taxiihub
# The config must listen on 0.0.0.0:8080 to be reachable from outside the
# container, with tls (or insecure_http: true behind a TLS proxy), and set
# data_dir: /var/lib/taxiihub (relative paths in a config resolve against
# the config file's directory, here /etc/taxiihub).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build command; cmd/taxiihub's TestDockerfile runs this very line.
RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/taxiihub ./cmd/taxiihub
RUN mkdir -p /out/data /out/etc && sed 's#^data_dir: .*#data_dir: /var/lib/taxiihub#' testdata/hub.yaml > /out/etc/hub.yaml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/taxiihub /taxiihub
COPY --from=build /out/etc/hub.yaml /etc/taxiihub/hub.yaml
COPY --from=build --chown=65532:65532 --chmod=0700 /out/data /var/lib/taxiihub
USER 65532:65532
WORKDIR /var/lib/taxiihub
VOLUME /var/lib/taxiihub
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/taxiihub", "health", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/taxiihub"]
CMD ["serve", "--config", "/etc/taxiihub/hub.yaml"]
