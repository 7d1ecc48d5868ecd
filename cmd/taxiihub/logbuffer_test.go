package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records each Write it is given, as a file would take them.
type writes struct {
	mu    sync.Mutex
	calls []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) snapshot() (calls int, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls), strings.Join(w.calls, "")
}

// messages are the msg fields of the JSON lines in text, in order.
func messages(t *testing.T, text string) []string {
	t.Helper()
	var msgs []string
	for line := range strings.Lines(text) {
		var rec struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a whole JSON line: %q: %v", line, err)
		}
		msgs = append(msgs, rec.Msg)
	}
	return msgs
}

func TestLogLines_RequestLinesAreWrittenTogether(t *testing.T) {
	out := &writes{}
	log, _ := newLogger(out)
	for i := range 50 {
		log.Info("request", "n", i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls, text := out.snapshot()
		if got := messages(t, text); len(got) == 50 {
			// One write when the 50 lines took less than logFlushEvery; a
			// stalled machine may need a few.
			if calls > 5 {
				t.Errorf("50 lines took %d writes", calls)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s only %d of 50 lines were written", len(messages(t, text)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogLines_AWarningGoesOutAtOnceWithWhatWaited(t *testing.T) {
	out := &writes{}
	log, _ := newLogger(out)
	log.Info("first")
	log.Info("second")
	log.Warn("trouble")
	if _, text := out.snapshot(); fmt.Sprint(messages(t, text)) != "[first second trouble]" {
		t.Fatalf("after a warning the log holds %q", text)
	}
	log.Error("worse")
	if _, text := out.snapshot(); fmt.Sprint(messages(t, text)) != "[first second trouble worse]" {
		t.Fatalf("after an error the log holds %q", text)
	}
	// Loggers derived with attributes or groups flush the same way.
	log.With("component", "store").WithGroup("g").Warn("derived")
	if _, text := out.snapshot(); !strings.Contains(text, `"msg":"derived","component":"store"`) {
		t.Fatalf("a derived logger's warning was held: %q", text)
	}
}

func TestLogLines_FlushWritesWhatIsHeld(t *testing.T) {
	out := &writes{}
	log, flush := newLogger(out)
	log.Info("shutting down")
	flush()
	if _, text := out.snapshot(); fmt.Sprint(messages(t, text)) != "[shutting down]" {
		t.Fatalf("after flush the log holds %q", text)
	}
	flush() // nothing held: no empty write
	if calls, _ := out.snapshot(); calls != 1 {
		t.Fatalf("%d writes, want 1", calls)
	}
}

func TestLogLines_HeldBytesAreBounded(t *testing.T) {
	out := &writes{}
	lines := newLineBuffer(out)
	line := strings.Repeat("x", 1023) + "\n"
	var want bytes.Buffer
	for range 200 { // 200 KiB, written within logFlushEvery
		lines.Write([]byte(line))
		want.WriteString(line)
	}
	lines.Flush()
	calls, text := out.snapshot()
	if text != want.String() {
		t.Fatalf("wrote %d bytes, want %d in order", len(text), want.Len())
	}
	for i, c := range out.calls {
		if len(c) > logBufferSize || len(c)%len(line) != 0 {
			t.Fatalf("write %d of %d: %d bytes", i, calls, len(c))
		}
	}
	if calls < 200*len(line)/logBufferSize {
		t.Fatalf("%d writes: more than %d bytes were held", calls, logBufferSize)
	}
}

func TestLogLines_ConcurrentLoggersKeepLinesWhole(t *testing.T) {
	out := &writes{}
	log, flush := newLogger(out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				log.Info("request", "path", strings.Repeat("p", g*100+i))
			}
		})
	}
	wg.Wait()
	flush()
	if _, text := out.snapshot(); len(messages(t, text)) != 1600 {
		t.Fatalf("%d lines, want 1600", len(messages(t, text)))
	}
}

// failing is stderr closed or on a full disk: every write fails.
type failing struct{ calls int }

func (f *failing) Write([]byte) (int, error) {
	f.calls++
	return 0, errors.New("no space left on device")
}

func TestLogLines_AFailingWriterDropsLinesWithoutHoldingThem(t *testing.T) {
	out := &failing{}
	lines := newLineBuffer(out)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 1000 { // 1 MiB, within logFlushEvery
		if _, err := lines.Write(line); err != nil {
			t.Fatalf("a log line was refused: %v", err) // the request must not fail for its log line
		}
	}
	lines.mu.Lock()
	held := len(lines.held)
	lines.mu.Unlock()
	if held > logBufferSize || out.calls == 0 {
		t.Fatalf("%d bytes held after %d failed writes", held, out.calls)
	}
	lines.Flush()
	if len(lines.held) != 0 {
		t.Fatalf("%d bytes still held after a failed flush", len(lines.held))
	}
}
