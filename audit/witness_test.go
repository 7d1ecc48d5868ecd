package audit

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A witness endpoint that fails gets the head it missed with the next one;
// a witness file that cannot be written costs a log line, not the hub.
func TestWitness_RetriesAndFailures(t *testing.T) {
	var mu sync.Mutex
	var got []uint64
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 1 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var c Checkpoint
		json.NewDecoder(r.Body).Decode(&c)
		got = append(got, c.Seq)
	}))
	defer srv.Close()
	var logs strings.Builder
	unwritable := filepath.Join(t.TempDir(), "missing-dir", "heads.jsonl")
	w := NewWitness(unwritable, srv.URL, slog.New(slog.NewTextHandler(&logs, nil)))
	w.Send(Checkpoint{Seq: 1})
	w.Send(Checkpoint{Seq: 2})
	w.Close()
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("the endpoint received %v, want [1 2]", got)
	}
	if !strings.Contains(logs.String(), "cannot post") || !strings.Contains(logs.String(), "cannot append") {
		t.Fatalf("the failures were not logged:\n%s", logs.String())
	}
}

func TestLastWitnessed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "heads.jsonl")
	w := NewWitness(file, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, seq := range []uint64{10, 30, 20} {
		w.Send(Checkpoint{Seq: seq, Head: "h"})
	}
	w.Close()
	if c, err := LastWitnessed(file); err != nil || c.Seq != 30 {
		t.Fatalf("newest head %+v, %v", c, err)
	}
	for name, content := range map[string]string{"corrupt.jsonl": "{\"seq\":1}\nnot json\n", "empty.jsonl": "\n"} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := LastWitnessed(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
