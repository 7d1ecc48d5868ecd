package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/boltstore"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// auditedFile writes 20 audit records with a checkpoint every 10 and a
// shutdown checkpoint, and returns the file and the audit key's path.
func auditedFile(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	keyPath := datadir.Dir(dir).File(datadir.AuditKeyFile)
	key, err := datadir.Dir(dir).AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "hub.db")
	st, err := boltstore.Open(db, boltstore.Options{AuditKey: key, CheckpointEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		rec := &audit.Record{Time: time.Now(), RequestID: fmt.Sprint(i), Org: "fbi", Action: audit.ActionRead, Status: 200}
		if err := st.Audit(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return db, keyPath
}

func verifyFile(db, key string, flags ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"audit", "verify", "--db", db, "--key", key}, flags...), &out, io.Discard)
	return out.String(), err
}

// tamper edits the file's audit buckets directly, as an intruder with the
// file would.
func tamper(t *testing.T, db string, edit func(records, checkpoints *bolt.Bucket)) {
	t.Helper()
	f, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Update(func(tx *bolt.Tx) error {
		edit(tx.Bucket([]byte("audit")), tx.Bucket([]byte("audit_checkpoints")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestAuditVerify_UntouchedLogVerifies(t *testing.T) {
	db, key := auditedFile(t)
	out, err := verifyFile(db, key)
	if err != nil || !strings.Contains(out, "verified 20 records (1 to 20) up to checkpoint 20") {
		t.Fatalf("verify = %q, %v", out, err)
	}
}

func TestAuditVerify_DetectsTampering(t *testing.T) {
	editRecord := func(records *bolt.Bucket, seq uint64, edit func(*audit.Record)) {
		var r audit.Record
		json.Unmarshal(records.Get(seqKey(seq)), &r)
		edit(&r)
		v, _ := json.Marshal(r)
		records.Put(seqKey(seq), v)
	}
	// alterAndReseal changes record 5 and seals it and every later record
	// again, as an intruder without the audit key can.
	alterAndReseal := func(r *bolt.Bucket) {
		prev := ""
		for seq := uint64(5); seq <= 20; seq++ {
			editRecord(r, seq, func(x *audit.Record) {
				if seq == 5 {
					x.Org = "dhs"
					prev = x.Prev
				}
				x.Seal(seq, prev)
				prev = x.Hash
			})
		}
	}
	tests := []struct {
		name string
		edit func(records, checkpoints *bolt.Bucket)
		want string
	}{
		{"a field changed", func(r, _ *bolt.Bucket) {
			v := r.Get(seqKey(7))
			r.Put(seqKey(7), bytes.Replace(v, []byte(`"org":"fbi"`), []byte(`"org":"dhs"`), 1))
		}, "record 7 was altered"},
		{"a record removed", func(r, _ *bolt.Bucket) { r.Delete(seqKey(7)) }, "record 7 is missing"},
		{"two records swapped", func(r, _ *bolt.Bucket) {
			a, b := bytes.Clone(r.Get(seqKey(7))), bytes.Clone(r.Get(seqKey(8)))
			r.Put(seqKey(7), b)
			r.Put(seqKey(8), a)
		}, "record 7"},
		{"swapped and renumbered", func(r, _ *bolt.Bucket) {
			a, b := bytes.Clone(r.Get(seqKey(7))), bytes.Clone(r.Get(seqKey(8)))
			r.Put(seqKey(7), b)
			r.Put(seqKey(8), a)
			editRecord(r, 7, func(x *audit.Record) { x.Seq = 7 })
			editRecord(r, 8, func(x *audit.Record) { x.Seq = 8 })
		}, "record 7 does not follow record 6"},
		{"a record inserted", func(r, _ *bolt.Bucket) {
			v := bytes.Clone(r.Get(seqKey(20)))
			r.Put(seqKey(21), bytes.Replace(v, []byte(`"seq":20`), []byte(`"seq":21`), 1))
		}, "record 21 does not follow record 20"},
		{"the tail truncated", func(r, _ *bolt.Bucket) {
			for seq := uint64(18); seq <= 20; seq++ {
				r.Delete(seqKey(seq))
			}
		}, "checkpoint 20 vouches for records after 17"},
		{"altered and the chain recomputed", func(r, _ *bolt.Bucket) { alterAndReseal(r) }, "record 10 differs from what checkpoint 10 signed"},
		{"a checkpoint forged", func(_, c *bolt.Bucket) {
			v := c.Get(seqKey(10))
			var cp audit.Checkpoint
			json.Unmarshal(v, &cp)
			cp.Head = strings.Repeat("0", 64)
			v, _ = json.Marshal(cp)
			c.Put(seqKey(10), v)
		}, "checkpoint 10 (periodic) has an invalid signature"},
		{"every checkpoint deleted, a record altered, the chain recomputed", func(r, c *bolt.Bucket) {
			c.Delete(seqKey(10))
			c.Delete(seqKey(20))
			alterAndReseal(r)
		}, "20 records (1 to 20) are not covered by a signed checkpoint"},
		{"a checkpoint removed from the middle", func(r, c *bolt.Bucket) {
			for seq := uint64(21); seq <= 25; seq++ { // records and a checkpoint after 20, as a running hub adds them
				v := bytes.Clone(r.Get(seqKey(20)))
				var x audit.Record
				json.Unmarshal(v, &x)
				x.Seal(seq, x.Hash)
				v, _ = json.Marshal(x)
				r.Put(seqKey(seq), v)
			}
			c.Delete(seqKey(10))
		}, "checkpoint 20 does not follow the checkpoint before it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, key := auditedFile(t)
			tamper(t, db, tt.edit)
			out, err := verifyFile(db, key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("verify = %q, %v; want an error naming %q", out, err, tt.want)
			}
		})
	}
}

func TestAuditVerify_WrongKeyOrHeldFile(t *testing.T) {
	db, _ := auditedFile(t)
	otherDir := datadir.Dir(t.TempDir())
	otherDir.AuditKey()
	other := otherDir.File(datadir.AuditKeyFile)
	if _, err := verifyFile(db, other); err == nil || !strings.Contains(err.Error(), "invalid signature") {
		t.Fatalf("another hub's key: %v", err)
	}
	if _, err := verifyFile(filepath.Join(t.TempDir(), "none.db"), other); err == nil {
		t.Fatal("a missing file verified")
	}
}

// killWhileBusy serves cfg with the binary, lets setup prepare the hub at
// its URL, runs 4 clients calling request(client, i) until it returns false,
// kills the hub with SIGKILL after busy, and returns once the clients have
// stopped.
func killWhileBusy(t *testing.T, bin, cfg string, busy time.Duration, setup func(base string) (request func(client, i int) bool)) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // if setup fails
	request := setup(waitForURL(t, stderr))
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for client := range 4 {
		wg.Go(func() {
			for i := 0; !stopped.Load() && request(client, i); i++ {
			}
		})
	}
	time.Sleep(busy)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stopped.Store(true)
	wg.Wait()
}

// postEnvelope posts a TAXII envelope with the given Authorization.
func postEnvelope(url, authorization string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", authorization)
	return http.DefaultClient.Do(req)
}

// TestCrash_AcknowledgedWritesKeepTheirAuditRecords kills the hub with
// SIGKILL while clients post; afterwards every acknowledged object is
// stored with its audit record, no record names a missing object, and the
// chain verifies.
func TestCrash_AcknowledgedWritesKeepTheirAuditRecords(t *testing.T) {
	dir, bin := buildBinary(t)
	cfg := writeConfig(t, dir)
	bearer := "Bearer " + issueWithBinary(t, bin, "--config", cfg, "--org", "fbi", "--sub", "crash", "--roles", "read,write", "--ttl", "1h")
	var mu sync.Mutex
	acked := map[string]bool{}
	killWhileBusy(t, bin, cfg, 1500*time.Millisecond, func(base string) func(client, i int) bool {
		return func(client, i int) bool {
			first := (client*100000 + i) * 20
			res, err := postEnvelope(base+"/election2020/collections/indicators/objects/", bearer, bytes.NewReader(synth.Envelope(first, 20)))
			if err != nil {
				return false // the hub is gone
			}
			var st struct {
				Successes []struct{ ID string } `json:"successes"`
			}
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
			if err == nil && res.StatusCode == http.StatusAccepted {
				mu.Lock()
				for _, s := range st.Successes {
					acked[s.ID] = true
				}
				mu.Unlock()
			}
			return true
		}
	})
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	st, err := boltstore.Open(filepath.Join(dir, "data", "hub.db"), boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]bool{}
	q := store.Query{Limit: 1000, Versions: store.VersionMatch{All: true}}
	for {
		var page store.Page
		if err := st.Query(context.Background(), "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10", q, func(p store.Page) error {
			for _, e := range p.Entries {
				stored[e.ID] = true
			}
			page = store.Page{More: p.More, Entries: p.Entries[len(p.Entries)-1:]}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		q.AddedAfter = page.Entries[0].DateAdded
	}
	audited := map[string]bool{}
	if err := st.AuditRecords(context.Background(), 0, func(r audit.Record) error {
		for _, o := range r.Stored {
			if !stored[o.ID] {
				return fmt.Errorf("record %d names %s, which is not stored", r.Seq, o.ID)
			}
			audited[o.ID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] || !audited[id] {
			t.Fatalf("acknowledged %s: stored %v, audited %v", id, stored[id], audited[id])
		}
	}
	if len(stored) != len(audited) {
		t.Fatalf("%d objects stored, %d with an audit record", len(stored), len(audited))
	}
	pub, err := readPublicKey(filepath.Join(dir, "data", datadir.AuditKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	// Killed, the hub sealed nothing after its last checkpoint.
	if _, err := audit.Verify(store.AuditLog(context.Background(), st), audit.VerifyOptions{Keys: []ed25519.PublicKey{pub}, AllowUnsealed: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged, %d stored, all audited", len(acked), len(stored))
}

// TestCrash_AnsweredReadsKeepTheirAuditRecords kills the hub while clients
// read: every read that was answered has its record after a restart, even
// those still in the audit journal at the kill. So with audit.read_sync: a
// kill of the process loses nothing the operating system was given.
func TestCrash_AnsweredReadsKeepTheirAuditRecords(t *testing.T) {
	for _, readSync := range []string{"always", "10ms"} {
		t.Run("read_sync="+readSync, func(t *testing.T) { testAnsweredReadsSurviveAKill(t, readSync) })
	}
}

func testAnsweredReadsSurviveAKill(t *testing.T, readSync string) {
	dir, bin := buildBinary(t)
	cfg := writeConfig(t, dir)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\naudit: {read_sync: %s}\n", readSync)
	f.Close()
	bearer := "Bearer " + issueWithBinary(t, bin, "--config", cfg, "--org", "fbi", "--sub", "crash", "--roles", "read,write", "--ttl", "1h")
	var mu sync.Mutex
	answered := map[string]bool{}
	killWhileBusy(t, bin, cfg, time.Second, func(base string) func(client, i int) bool {
		objects := base + "/election2020/collections/indicators/objects/"
		if res, err := postEnvelope(objects, bearer, bytes.NewReader(synth.Envelope(0, 10))); err != nil || res.StatusCode != http.StatusAccepted {
			t.Fatalf("POST: %v %v", res, err)
		}
		return func(client, i int) bool {
			req, _ := http.NewRequest(http.MethodGet, objects+synth.ID((client+i)%10)+"/", nil)
			req.Header.Set("Authorization", bearer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return false // the hub is gone
			}
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode == http.StatusOK {
				mu.Lock()
				answered[res.Header.Get("X-Request-Id")] = true
				mu.Unlock()
			}
			return true
		}
	})
	if len(answered) == 0 {
		t.Fatal("no read was answered before the kill")
	}

	db, key := filepath.Join(dir, "data", "hub.db"), filepath.Join(dir, "data", datadir.AuditKeyFile)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "--db", db, "--key", key, "--allow-unsealed"}, &out, &errOut); err != nil {
		t.Fatalf("verify after the kill: %v", err)
	}
	t.Logf("verify: %s%s", out.String(), errOut.String())
	st, err := boltstore.Open(db, boltstore.Options{}) // as the hub starts: folds the journal
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recorded := map[string]bool{}
	for _, r := range storetest.Records(t, st) {
		recorded[r.RequestID] = true
	}
	for id := range answered {
		if !recorded[id] {
			t.Fatalf("read %s was answered but has no audit record (%d answered, %d records)", id, len(answered), len(recorded))
		}
	}
	pub, err := readPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(store.AuditLog(context.Background(), st), audit.VerifyOptions{Keys: []ed25519.PublicKey{pub}, AllowUnsealed: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reads answered, all audited", len(answered))
}
