package main

import (
	"context"
	"debug/elf"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks what can be checked without a Docker engine: the
// build line builds a static binary, the default command's config exists
// and passes config check, and the image runs as a non-root user with its
// data directory owned by that user and closed to others.
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(df)
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .* -o )/out/taxiihub (\./cmd/taxiihub)$`).FindStringSubmatch(text)
	if build == nil {
		t.Fatal("no static build line in the Dockerfile")
	}
	bin := filepath.Join(t.TempDir(), "taxiihub")
	cmd := exec.Command("sh", "-c", build[1]+bin+" "+build[2])
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary is dynamically linked")
		}
	}
	f.Close()

	if !strings.Contains(text, `CMD ["serve", "--config", "/etc/taxiihub/hub.yaml"]`) ||
		!strings.Contains(text, "sed 's#^data_dir: .*#data_dir: /var/lib/taxiihub#' testdata/hub.yaml > /out/etc/hub.yaml") ||
		!strings.Contains(text, "COPY --from=build /out/etc/hub.yaml /etc/taxiihub/hub.yaml") {
		t.Fatal("the default command's config is not the one copied into the image")
	}
	if err := run(context.Background(), []string{"config", "check", "--config", "../../testdata/hub.yaml"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("the image's config: %v", err)
	}
	if !regexp.MustCompile(`(?m)^USER 65532:65532$`).MatchString(text) ||
		!strings.Contains(text, "--chown=65532:65532 --chmod=0700 /out/data /var/lib/taxiihub") ||
		!regexp.MustCompile(`(?m)^WORKDIR /var/lib/taxiihub$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^VOLUME /var/lib/taxiihub$`).MatchString(text) {
		t.Fatal("the image must run as 65532 with /var/lib/taxiihub its own, 0700, as a volume")
	}
	if !strings.Contains(text, `HEALTHCHECK --interval=30s --timeout=5s CMD ["/taxiihub", "health", "--url", "http://127.0.0.1:8080/healthz"]`) {
		t.Fatal("no HEALTHCHECK on /healthz")
	}
}

func TestHealthCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if err := run(context.Background(), []string{"health", "--url", srv.URL + "/healthz"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("a healthy hub failed: %v", err)
	}
	if err := run(context.Background(), []string{"health", "--url", srv.URL + "/nope"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a 404 passed the health check")
	}
}
