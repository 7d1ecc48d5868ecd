// Package boltstore is the embedded store.Store backend: one bbolt file,
// and beside it a small audit journal.
//
// Layout (schema 6). Top-level buckets:
//
//	meta         "schema" → schema version (uint64, big-endian)
//	statuses     status id → JSON of store.Status, S2-compressed behind a 0 byte
//	collections  one nested bucket per collection id, holding:
//	  "last_added" → date_added of the newest version (µs, 8 bytes)
//	  "count"      → how many object versions it holds (8 bytes)
//	  "id_gen"     → the number of the ids index's current generation (8)
//	  objects      date_added (8) → record: id, version, spec_version, the
//	               JSON, S2-compressed when that is shorter (encoding.go)
//	  idc0, idc1, … the sealed generations of the ids index (idgens.go), in
//	               chunks (chunks.go) of entries in key order:
//	               id 0x00 version (12) → date_added (8) + spec_version
//	               id 0x00 → the organization that owns the object (kept
//	               after a delete; absent for objects stored before owners
//	               were recorded)
//	  id_log       sequence (8) → the entries one write put in the current
//	               generation, which is in memory (memgen.go)
//	  id_filters   generation (8) → the Bloom filter of a sealed generation
//	  revised      id → empty: the objects that have had more than one
//	               version (see reader.consider)
//	  types        type 0x00 date_added (8) → empty
//	audit              seq (8) → JSON of audit.Record, hash-chained
//	audit_checkpoints  seq (8) → JSON of audit.Checkpoint, signed
//
// meta also holds the audit chain's head ("audit_head") and the newest
// checkpoint ("audit_checkpointed").
//
// Keys. date_added keys are big-endian microseconds, unique and increasing
// within a collection, so objects is append-only and a poll is one Seek and
// a sequential scan: a page costs the same at the start and at the end of a
// million objects. A scan looks an object's other versions up in the ids
// index only when revised lists it: most objects have one version, which
// is its first and last. Version keys are seconds (sign-flipped, 8 bytes)
// and nanoseconds (4 bytes), so an object's versions sort by time under
// its id.
// match[id] seeks the generations of the ids index whose filters may hold
// the id (in practice one); match[type] merges the types bucket's ranges;
// both cost in proportion to what they return.
//
// Pages. objects and audit are filled to 100% (their keys only grow), types
// to 90%. Ids are random UUIDs: entries of the ids index are not written
// into a B+tree one by one (each would rewrite a page somewhere); a write
// appends its entries to the log, and a sealed generation is written whole,
// in order, chunks filling their pages. An object's owner sits beside its
// versions. Pages are 16 KiB (pageSize; files made before keep 4 KiB); a
// 600-byte indicator, compressed, takes about a thirtieth of one.
//
// Writes. One committer goroutine runs every write. Concurrent writes are
// grouped into one transaction and one commit (up to maxBatch); if the
// group fails, its writes are retried one by one so that a bad write fails
// alone. A write is durable when it returns: bbolt fdatasyncs its pages,
// then its meta page. A POST's objects, status and audit record share one
// transaction. Audit records of reads go to the journal instead (see
// journal.go): one fdatasync per group, folded into the audit bucket in bulk.
//
// The JSON path. Objects are stored as the raw bytes that were posted (after
// validation), S2-compressed when that is shorter, behind a short header
// with the fields indexes and responses need; a read decompresses them (or
// copies them from the mmap'd page) into the response, held until its audit
// record is durable, inside the read transaction, without decoding or
// re-encoding the JSON.
package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// schemaVersion 6 keeps the ids index's current generation in memory and
// its entries in a log (memgen.go), where schema 5 kept it in a bucket;
// schema 5 stores objects compressed (encoding.go), schema 4 did not,
// schema 3 did not list the objects that have had more than one
// version (revised), schema 2 had the ids index in one bucket (not in
// generations, idgens.go), and schema 1 owners in a bucket of their own.
// Older files are upgraded when opened to write (schema 4's records are
// read as they are).
const schemaVersion = 6

var (
	bucketMeta        = []byte("meta")
	bucketStatuses    = []byte("statuses")
	bucketCollections = []byte("collections")
	bucketObjects     = []byte("objects")
	bucketIDs         = []byte("ids")
	bucketTypes       = []byte("types")
	bucketRevised     = []byte("revised")
	bucketOwners      = []byte("owners") // schema 1 only
	keySchema         = []byte("schema")
	keyLastAdded      = []byte("last_added")
	keyCount          = []byte("count") // object versions in the collection
)

// Store is a store.Store in one bbolt file.
type Store struct {
	db   *bolt.DB
	opts Options
	now  func() time.Time

	ops     chan *writeOp
	closing chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer has stopped
	once    sync.Once

	// The committer's own: the audit journal, the chain's head, and the
	// records in the journal but not yet in the file.
	journal   *journal
	head      chainHead
	pending   []journaled
	foldEvery int
	unfolded  atomic.Int64       // len(pending), for other goroutines
	signed    []audit.Checkpoint // made in the transaction being written, for Options.Witness
	syncDue   <-chan time.Time   // with ReadSyncInterval: when the journal's unsynced records must be flushed

	filters sync.Map // collection id → *idFilters, the ids index's filters (idgens.go)
	memGens sync.Map // collection id → *memGenerations, its current generation (memgen.go)
	// memLoaded: every collection's current generation is in memory.
	memLoaded atomic.Bool
	// reads counts the reads under way, so that a sealed generation leaves
	// memory once the reads begun before its seal are done; the committer
	// keeps the sealed generations waiting for that (memgen.go).
	reads   readGate
	retired retirement
}

var _ store.Store = (*Store)(nil)

// pageSize is the page size of the files the store creates (a file keeps
// the size it was made with). bbolt's default is the system's, 4 KiB here;
// at a million realistic objects 16 KiB pages made the file 1.28× the JSON
// posted instead of 1.43× (fewer half-empty pages and page headers), and
// ingest and single-object GETs cost the hub a little less CPU (one level
// fewer in the objects' B+tree).
var pageSize = max(16<<10, os.Getpagesize())

// initialMmapSize is how much of the file is mapped from the start. A
// remap waits for every read transaction to end, and a backup streams the
// whole file from one, so writers would stall behind a slow backup each
// time the file outgrew its mapping. Mapping far beyond the file costs
// address space only: 64 GiB where that is plentiful.
const initialMmapSize = 1 << (30 + 6*(strconv.IntSize/64)) // 64 GiB on 64-bit builds, 1 GiB on 32-bit

// Options configure a Store.
type Options struct {
	// AuditKey signs audit checkpoints and anchors: the audit key, not the
	// one that signs tokens. Without it the store writes no checkpoints
	// (tools that only read the log need none).
	AuditKey ed25519.PrivateKey
	// Witness, if set, is given every checkpoint once it is committed (see
	// audit.Witness). It must not block.
	Witness func(audit.Checkpoint)
	// Retention, if set, says how old an audit record may grow (0: forever);
	// older ones are pruned at Open and then hourly. It is asked each time,
	// so a reloaded config takes effect.
	Retention func() time.Duration
	// Log receives what the store does on its own (pruning); nil: nothing.
	Log *slog.Logger
	// A checkpoint is signed after CheckpointEvery records (default 1000),
	// and every CheckpointInterval (default 1m) when records were added.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// ReadOnly opens the file for reading only, as audit verify does.
	ReadOnly bool
	// ReadSyncInterval, if positive, lets Audit return once its record is
	// written to the journal (to the operating system, which survives a
	// crash of the process), and flushes the journal within that interval.
	// Zero: Audit returns once its record is on disk.
	ReadSyncInterval time.Duration

	generationKeys uint64 // keys per generation of the ids index; tests make it small
}

// generationKeys is how many keys a generation of the ids index holds
// before it is sealed.
func (s *Store) generationKeys() uint64 {
	if s.opts.generationKeys > 0 {
		return s.opts.generationKeys
	}
	return generationKeys
}

// Open opens (creating if needed) the bbolt file at path. It fails fast if
// another process holds the file, and refuses a file of an unknown schema.
func Open(path string, opts Options) (*Store, error) {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		ReadOnly:        opts.ReadOnly,
		Timeout:         time.Second,
		FreelistType:    bolt.FreelistMapType,
		PageSize:        pageSize,
		InitialMmapSize: initialMmapSize,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: another process holds it (a hub already running on this data_dir?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, now: time.Now, ops: make(chan *writeOp), closing: make(chan struct{}), stopped: make(chan struct{}),
		foldEvery: min(opts.CheckpointEvery, maxFoldEvery)}
	if opts.ReadOnly {
		close(s.stopped)
		if err := s.countUnfolded(JournalPath(path)); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", JournalPath(path), err)
		}
		if err := db.View(s.loadMemGens); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return s, nil
	}
	if err := db.Update(s.initSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.chunkOldGenerations(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.View(s.loadMemGens); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if s.journal, err = openJournal(JournalPath(path), opts.Log); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.recoverJournal(); err != nil {
		s.journal.close()
		db.Close()
		return nil, fmt.Errorf("open %s: %w", JournalPath(path), err)
	}
	go s.commitLoop()
	if opts.AuditKey != nil {
		go s.checkpointLoop()
		if opts.Retention != nil {
			go s.retentionLoop()
		}
	}
	return s, nil
}

func (s *Store) initSchema(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if v := meta.Get(keySchema); v != nil {
		got := binary.BigEndian.Uint64(v)
		if got < 1 || got > schemaVersion {
			return fmt.Errorf("schema version %d, this build reads %d", got, schemaVersion)
		}
		if got < 2 {
			if err := moveOwners(tx); err != nil {
				return fmt.Errorf("upgrading schema 1 to 2: %w", err)
			}
		}
		if got < 4 {
			// Finding an object's other versions takes the filters.
			if err := s.loadFilters(tx); err != nil {
				return err
			}
			if err := s.markRevised(tx); err != nil {
				return fmt.Errorf("upgrading schema 3 to 4: %w", err)
			}
		}
		if got < 6 {
			if err := s.sealCurrentOnDisk(tx); err != nil {
				return fmt.Errorf("upgrading schema %d to 6: %w", got, err)
			}
		}
	}
	if err := meta.Put(keySchema, be64(schemaVersion)); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketStatuses, bucketCollections, bucketAudit, bucketCheckpoints} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return s.loadFilters(tx)
}

// moveOwners upgrades a schema 1 file to schema 2: each collection's
// owners bucket moves into its ids bucket, in the transaction that records
// the new schema.
func moveOwners(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(id []byte) error {
		root := tx.Bucket(bucketCollections).Bucket(id)
		owners := root.Bucket(bucketOwners)
		if owners == nil {
			return nil // written before owners were recorded
		}
		ids := root.Bucket(bucketIDs)
		err := owners.ForEach(func(object, org []byte) error {
			return ids.Put(idPrefix(string(object)), bytes.Clone(org))
		})
		if err != nil {
			return err
		}
		return root.DeleteBucket(bucketOwners)
	})
}

// Close signs a shutdown checkpoint (when it can sign), stops the
// committer and closes the file after in-flight transactions finish.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		if s.opts.AuditKey != nil {
			err = s.Checkpoint(context.Background(), audit.CheckpointShutdown)
		} else {
			err = s.fold()
		}
		close(s.closing)
		<-s.stopped
		if s.journal != nil {
			err = errors.Join(err, s.journal.close())
		}
		err = errors.Join(err, s.db.Close())
	})
	return err
}

// collection is one collection's buckets inside a transaction.
type collection struct {
	root, objects, types *bolt.Bucket
	revised              *bolt.Bucket // nil in a file older than schema 4, opened to read
	filters              *idFilters
	// mem is the current generation of the ids index, as transaction txid
	// sees it; nil while the file is upgraded.
	mem  *memGeneration
	txid uint64
}

// openCollection opens collection id's buckets in tx; false if it has none.
func (s *Store) openCollection(tx *bolt.Tx, id string) (collection, bool) {
	c, ok := s.openObjects(tx, id)
	if ok {
		c.types, c.revised = c.root.Bucket(bucketTypes), c.root.Bucket(bucketRevised)
	}
	return c, ok
}

// openObjects opens what a read by id needs, the objects and the ids index,
// and leaves types and revised nil: each bucket opened costs a GET a B+tree
// seek and four allocations.
func (s *Store) openObjects(tx *bolt.Tx, id string) (collection, bool) {
	root := tx.Bucket(bucketCollections).Bucket([]byte(id))
	if root == nil {
		return collection{}, false
	}
	c := collection{root: root, objects: root.Bucket(bucketObjects), filters: s.filtersOf(id), txid: uint64(tx.ID())}
	c.mem = s.memGensOf(id).of(c.currentGen())
	return c, true
}

func (s *Store) createCollection(tx *bolt.Tx, id string) (collection, error) {
	root, err := tx.Bucket(bucketCollections).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return collection{}, err
	}
	c := collection{root: root, filters: s.filtersOf(id), txid: uint64(tx.ID())}
	var log *bolt.Bucket
	for _, b := range []struct {
		dst  **bolt.Bucket
		name []byte
	}{{&c.objects, bucketObjects}, {&log, bucketIDLog}, {&c.types, bucketTypes}, {&c.revised, bucketRevised}} {
		if *b.dst, err = root.CreateBucketIfNotExists(b.name); err != nil {
			return collection{}, err
		}
	}
	// date_added keys only ever grow: pack pages full.
	c.objects.FillPercent = 1.0
	c.types.FillPercent = 0.9
	mems := s.memGensOf(id)
	if c.mem = mems.of(c.currentGen()); c.mem == nil { // a new collection
		c.mem = newMemGeneration(c.currentGen())
		mems.add(c.mem)
	}
	return c, nil
}

// Add implements store.Store.
func (s *Store) Add(ctx context.Context, collectionID string, by store.Author, objs []store.Object, st *store.Status, audited *audit.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := audited
	if rec == nil {
		rec = &audit.Record{} // filled in, but not appended
	}
	// Refusals the caller made (validation) come first.
	failures, refusals := len(st.Failures), len(rec.Refused)
	return s.write(func(tx *bolt.Tx) error {
		// Runs again if the group commit it joined is retried.
		st.Successes, rec.Stored, rec.Unchanged = nil, nil, nil
		st.Failures, rec.Refused = st.Failures[:failures], rec.Refused[:refusals]
		c, err := s.createCollection(tx, collectionID)
		if err != nil {
			return err
		}
		last := uint64(0)
		if v := c.root.Get(keyLastAdded); v != nil {
			last = binary.BigEndian.Uint64(v)
		}
		now := uint64(max(s.now().UnixMicro(), 0))
		for _, o := range objs {
			detail, outcome, err := c.add(by, o, max(now, last+1))
			if err != nil {
				return fmt.Errorf("collection %s: object %s: %w", collectionID, o.ID, err)
			}
			version := audit.ObjectVersion{ID: detail.ID, Version: detail.Version}
			switch outcome {
			case stored:
				last = max(now, last+1)
				rec.Stored = append(rec.Stored, version)
			case unchanged:
				rec.Unchanged = append(rec.Unchanged, version)
			case failed:
				rec.Refused = append(rec.Refused, version)
				st.Failures = append(st.Failures, detail)
				continue
			}
			st.Successes = append(st.Successes, detail)
		}
		if err := c.root.Put(keyLastAdded, be64(last)); err != nil {
			return err
		}
		if err := c.mem.flushLog(c.root); err != nil {
			return err
		}
		if err := c.addCount(len(rec.Stored)); err != nil {
			return err
		}
		if err := putStatus(tx, st); err != nil {
			return err
		}
		if audited == nil {
			return nil
		}
		return appendAudit(tx, rec)
	})
}

// outcome is what add did with an object version.
type outcome int

const (
	stored    outcome = iota
	unchanged         // that version was already stored
	failed            // it may not join what is stored: versioning rules, another owner
)

// add stores one object version at date_added unless that version is
// already there or may not join the stored ones, and reports which happened.
func (c collection) add(by store.Author, o store.Object, dateAdded uint64) (store.Detail, outcome, error) {
	ownedBy, known, versions := c.entriesOf(o.ID, nil)
	owner := string(ownedBy)
	refuse := func(problem string) (store.Detail, outcome, error) {
		if o.Where != "" {
			problem = o.Where + ": " + problem
		}
		return store.Detail{ID: o.ID, Version: o.VersionText, Message: problem}, failed, nil
	}
	if o.Version.IsZero() {
		// Unversioned objects (cyber-observables) have one version: the first post.
		if len(versions) > 0 {
			return store.Detail{ID: o.ID, Version: stix.FormatTAXII(versionTime(versions[0].key)), Message: "already added"}, unchanged, nil
		}
		o.Version = time.UnixMicro(int64(dateAdded)).UTC()
		o.VersionText = stix.FormatTAXII(o.Version)
	}
	verKey := versionKey(o.Version)
	for _, v := range versions {
		if bytes.Equal(v.key, verKey) {
			return store.Detail{ID: o.ID, Version: o.VersionText, Message: "already added"}, unchanged, nil
		}
	}
	// Refusals never name the owner: it may have posted without
	// created_by_ref, not to be known to the other members.
	if (known || len(versions) > 0) && !by.MayChange(owner, known) {
		switch {
		case !known:
			return refuse(fmt.Sprintf("%s was stored before the hub recorded owners: only an admin makes new versions of it", o.ID))
		case len(versions) == 0:
			return refuse(fmt.Sprintf("%s was deleted by the organization that owns it; only that organization may post it again", o.ID))
		}
		return refuse(fmt.Sprintf("%s belongs to another organization: only its owner (or an admin) makes new versions of it", o.ID))
	}
	if len(versions) > 0 {
		if problem := c.versioningProblem(o, versions); problem != "" {
			return refuse(problem)
		}
	}
	if !known {
		c.mem.putOwner(o.ID, by.Org, c.txid)
	}
	if err := c.objects.Put(be64(dateAdded), encodeRecord(o, verKey)); err != nil {
		return store.Detail{}, stored, err
	}
	c.mem.putVersion(o.ID, verKey, dateAdded, o.SpecVersion, c.txid)
	if err := c.types.Put(typeKey(o.Type, dateAdded), nil); err != nil {
		return store.Detail{}, stored, err
	}
	if len(versions) > 0 {
		if err := c.revised.Put([]byte(o.ID), nil); err != nil {
			return store.Detail{}, stored, err
		}
	}
	return store.Detail{ID: o.ID, Version: o.VersionText, Message: o.Message}, stored, nil
}

// A status is stored packed (see pack): a POST's details name each of its
// objects, and compress to about two fifths. Files of schema 4 and before
// hold the JSON alone.
func putStatus(tx *bolt.Tx, st *store.Status) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketStatuses).Put([]byte(st.ID), pack(v))
}

func decodeStatus(v []byte, st *store.Status) error {
	v, err := unpack(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(v, st)
}

// pack is JSON (which starts with '{') S2-compressed behind a 0 byte.
func pack(v []byte) []byte {
	packed := make([]byte, 1+s2.MaxEncodedLen(len(v))) // packed[0] == 0
	n := len(s2.Encode(packed[1:], v))
	return packed[:1+n]
}

// unpack is the JSON in v, packed or not.
func unpack(v []byte) ([]byte, error) {
	if len(v) > 0 && v[0] == 0 {
		return s2.Decode(nil, v[1:])
	}
	return v, nil
}

// count is how many object versions the collection holds.
func (c collection) count() int {
	if v := c.root.Get(keyCount); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (c collection) addCount(delta int) error {
	if delta == 0 {
		return nil
	}
	return c.root.Put(keyCount, be64(uint64(max(c.count()+delta, 0))))
}

// Stats implements store.Store.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st := store.Stats{Objects: map[string]int{}}
	err := s.view(func(tx *bolt.Tx) error {
		st.Bytes = tx.Size()
		return tx.Bucket(bucketCollections).ForEachBucket(func(id []byte) error {
			c, _ := s.openCollection(tx, string(id))
			st.Objects[string(id)] = c.count()
			return nil
		})
	})
	return st, err
}

var keyReady = []byte("ready")

// Ready implements store.Store: a write transaction that commits.
func (s *Store) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyReady, be64(uint64(s.now().UnixMicro())))
	})
}

// Backup implements store.Store: the file as one read transaction sees it,
// begun right after a commit that folds the journal and seals the audit
// chain's head, so that the copy's log verifies whole.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var snapshot *bolt.Tx
	var beginErr error
	err := s.submit(&writeOp{seal: true, committed: func() { snapshot, beginErr = s.db.Begin(false) }})
	if err = errors.Join(err, beginErr); err != nil {
		return 0, err
	}
	defer snapshot.Rollback()
	return snapshot.WriteTo(w)
}

// versionText is the version, as the object spells it, of the object
// version added at dateAdded.
func (c collection) versionText(dateAdded uint64) string {
	rec, ok := decodeRecord(c.objects.Get(be64(dateAdded)))
	if !ok {
		return ""
	}
	return string(rec.verText)
}

// Status implements store.Store.
func (s *Store) Status(ctx context.Context, id string) (store.Status, error) {
	var st store.Status
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketStatuses).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("status %s: %w", id, store.ErrNotFound)
		}
		if err := decodeStatus(v, &st); err != nil {
			return fmt.Errorf("status %s: %w", id, err)
		}
		return nil
	})
	return st, err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, collectionID string, by store.Author, id string, vm store.VersionMatch, specVersions []string, rec *audit.Record) (int, error) {
	removed := 0
	err := s.write(func(tx *bolt.Tx) error {
		removed, rec.Deleted = 0, nil
		c, ok := s.openCollection(tx, collectionID)
		if !ok {
			return fmt.Errorf("object %s: %w", id, store.ErrNotFound)
		}
		owner, known, versions := c.entriesOf(id, nil)
		if len(versions) == 0 {
			return fmt.Errorf("object %s: %w", id, store.ErrNotFound)
		}
		if !by.MayChange(string(owner), known) {
			if !known {
				return fmt.Errorf("object %s was stored before the hub recorded owners; only an admin may delete it: %w", id, store.ErrNotOwner)
			}
			return fmt.Errorf("object %s belongs to another organization; only its owner or an admin may delete it: %w", id, store.ErrNotOwner)
		}
		if specVersions == nil {
			for _, v := range versions {
				specVersions = append(specVersions, string(v.spec))
			}
		}
		typ, _, _ := strings.Cut(id, "--")
		// Collect before deleting: the versions' keys point into pages that
		// deleting rewrites.
		var doomed []objectVersion
		for i, v := range versions {
			if selected(versions, i, vm, specVersions) {
				doomed = append(doomed, objectVersion{key: bytes.Clone(v.key), added: v.added, text: c.versionText(v.added), gen: v.gen})
			}
		}
		for _, v := range doomed {
			added := v.added
			if err := c.objects.Delete(be64(added)); err != nil {
				return err
			}
			if err := c.types.Delete(typeKey(typ, added)); err != nil {
				return err
			}
			if v.gen == c.mem.g {
				c.mem.deleteVersion(id, v.key, c.txid)
			} else if err := deleteChunkEntry(c.chunked(v.gen), append(idPrefix(id), v.key...)); err != nil {
				return err
			}
			removed++
			rec.Deleted = append(rec.Deleted, audit.ObjectVersion{ID: id, Version: v.text})
		}
		if removed == 0 {
			return fmt.Errorf("no version of object %s matches: %w", id, store.ErrNotFound)
		}
		if err := c.mem.flushLog(c.root); err != nil {
			return err
		}
		if err := c.addCount(-removed); err != nil {
			return err
		}
		return appendAudit(tx, rec)
	})
	return removed, err
}
