package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Witness sends each signed checkpoint out of the hub as it is made: as a
// JSON line appended to a file (on another disk or machine than data_dir),
// and/or as a JSON POST to an HTTP endpoint of the operator's choosing. A
// witness keeps what the hub's own log cannot prove: that its tail was not
// cut back, or its history rewritten, by whoever holds data_dir. Sending
// never holds up the hub: checkpoints queue, and a failure is logged and
// retried with the next one.
type Witness struct {
	file, url string
	client    *http.Client
	log       *slog.Logger
	queue     chan Checkpoint
	done      chan struct{}
}

// NewWitness starts a witness that appends to file and posts to url (either
// may be empty).
func NewWitness(file, url string, log *slog.Logger) *Witness {
	w := &Witness{file: file, url: url, client: &http.Client{Timeout: 10 * time.Second}, log: log,
		queue: make(chan Checkpoint, 1024), done: make(chan struct{})}
	go w.run()
	return w
}

// Send queues c; if the queue is full the oldest waiting checkpoint gives
// way (each checkpoint vouches for all before it).
func (w *Witness) Send(c Checkpoint) {
	for {
		select {
		case w.queue <- c:
			return
		default:
			select {
			case <-w.queue:
			default:
			}
		}
	}
}

// Close sends what is queued and stops.
func (w *Witness) Close() {
	close(w.queue)
	<-w.done
}

func (w *Witness) run() {
	defer close(w.done)
	var failed []Checkpoint // not yet posted: retried with the next one
	for c := range w.queue {
		line, _ := json.Marshal(c)
		if w.file != "" {
			if err := appendLine(w.file, line); err != nil {
				w.log.Error("audit witness: cannot append the signed head", "file", w.file, "seq", c.Seq, "err", err)
			}
		}
		if w.url != "" {
			failed = append(failed, c)
			for len(failed) > 0 {
				if err := w.post(failed[0]); err != nil {
					w.log.Error("audit witness: cannot post the signed head; will retry with the next", "url", w.url, "seq", failed[0].Seq, "err", err)
					break
				}
				failed = failed[1:]
			}
			failed = failed[max(0, len(failed)-64):]
		}
	}
}

func (w *Witness) post(c Checkpoint) error {
	body, _ := json.Marshal(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", res.Status)
	}
	return nil
}

// appendLine appends line and a newline to path and syncs it.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// LastWitnessed reads the newest checkpoint a witness file holds.
func LastWitnessed(path string) (Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return Checkpoint{}, err
	}
	defer f.Close()
	var last Checkpoint
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return Checkpoint{}, fmt.Errorf("%s: a line that is not a checkpoint: %w", path, err)
		}
		if !found || c.Seq >= last.Seq {
			last, found = c, true
		}
	}
	if err := sc.Err(); err != nil {
		return Checkpoint{}, err
	}
	if !found {
		return Checkpoint{}, fmt.Errorf("%s holds no checkpoint", path)
	}
	return last, nil
}
