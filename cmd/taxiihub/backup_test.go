package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackup_FailuresLeaveNoFile covers the backup command's error paths: a
// refused token, a stream cut short, and a body that is not a hub file.
func TestBackup_FailuresLeaveNoFile(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"refused", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"title":"Forbidden"}`, http.StatusForbidden)
		}, "403"},
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000000")
			w.Write([]byte("partial"))
		}, "interrupted"},
		{"not a hub file", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", 8192)))
		}, "does not open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			dir := t.TempDir()
			out := filepath.Join(dir, "copy.db")
			t.Setenv(tokenEnv, "t")
			err := run(context.Background(), []string{"backup", "--url", srv.URL, "--out", out}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Fatalf("a failed backup left %v", entries)
			}
		})
	}
}
