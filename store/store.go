// Package store owns persistence: the interfaces a backend implements
// (Objects, Statuses, AuditTrail and Operations; Store is all four), the
// query, status and ownership types that cross them, the ingest step
// between validation and storage, and the sentinel errors. It knows
// nothing of HTTP or of TAXII's JSON, and holds no STIX rule (those are in
// stix) nor policy (auth): a backend only stores and fetches. Backends
// live in subpackages (boltstore) and prove themselves against storetest,
// organised the same way.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/stix"
)

// ErrNotFound is returned when a status or object does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotOwner is returned when an Author may not change an object: it
// belongs to another organization.
var ErrNotOwner = errors.New("the object belongs to another organization")

// Author is who writes. The organization that posts an object's first
// version owns the object: only it, or an admin, adds versions to it or
// deletes them. Ownership outlives deletion (a tombstone), so that a
// deleted object cannot be posted again by another organization.
type Author struct {
	Org   string // the writer's organization; "" when authentication is off
	Admin bool   // may change any organization's objects
}

// MayChange reports whether a may add versions to, or delete versions of,
// an object owned by owner; known is false for an object stored before
// owners were recorded, which only an admin may change.
func (a Author) MayChange(owner string, known bool) bool {
	return a.Admin || known && owner == a.Org
}

// Store is a whole backend: objects, the statuses of POSTs, the audit
// trail, and what operating it needs. Callers and test doubles that need
// less take the smaller interface.
type Store interface {
	Objects
	Statuses
	AuditTrail
	Operations
}

// Objects keeps STIX objects per collection.
//
// Within a collection every stored object version gets a date_added that is
// strictly greater than every earlier one, at microsecond precision, so that
// date_added totally orders the collection and cursors are exact.
type Objects interface {
	// Add stores objs in collection, records st, and appends rec (the
	// request's audit record) to the audit log, all in one transaction,
	// durable when Add returns. An object whose (id, version) is already
	// stored is not stored again, nor one that breaks STIX versioning
	// against the versions stored (a version after a revoked one, one that
	// changes created_by_ref or created, a second marking definition): Add
	// appends those to st.Failures and rec.Refused, after what the caller
	// put there, as it does new versions of an object (or one deleted) that
	// by may not change (Author.MayChange); by owns the objects it adds
	// first. Add sets st.Successes (one Detail per other object, in objs
	// order) and rec.Stored and rec.Unchanged. A nil rec
	// appends nothing to the audit log: benchmarks measure the log's cost
	// so; the server always passes one.
	Add(ctx context.Context, collection string, by Author, objs []Object, st *Status, rec *audit.Record) error

	// Query finds the object versions in collection that match q, in
	// ascending date_added order, at most q.Limit of them, and calls fn with
	// them from inside one read transaction. Entry.Raw is valid only until fn
	// returns.
	Query(ctx context.Context, collection string, q Query, fn func(Page) error) error

	// Delete removes the versions of object id that match versions and
	// specVersions (as in Query, except that nil specVersions means every
	// spec_version), and appends rec, listing them in rec.Deleted, in the
	// same transaction. It returns how many it removed, or, appending
	// nothing, ErrNotFound when no stored version matches and ErrNotOwner
	// when by may not change the object (Author.MayChange).
	Delete(ctx context.Context, collection string, by Author, id string, versions VersionMatch, specVersions []string, rec *audit.Record) (int, error)
}

// Statuses keeps the status of every POST, recorded by Objects.Add.
type Statuses interface {
	// Status returns the status recorded by Add, or ErrNotFound.
	Status(ctx context.Context, id string) (Status, error)
}

// AuditTrail is the audit log: records sealed into a hash chain, the
// checkpoints signed over it, and the anchor of its retained start.
type AuditTrail interface {
	// Audit appends rec to the audit log, sealed into its hash chain, and
	// returns once it is durable.
	Audit(ctx context.Context, rec *audit.Record) error
	// AuditRecords calls fn with every audit record from sequence number
	// from on, in order, until fn returns an error (which it returns).
	AuditRecords(ctx context.Context, from uint64, fn func(audit.Record) error) error
	// AuditFrom returns a sequence number from which AuditRecords finds
	// every record whose Time is not before t, skipping the segments that
	// cannot hold one: the record after the newest checkpoint signed before
	// t (a record is sealed before the checkpoints that follow it). 0 when
	// none was.
	AuditFrom(ctx context.Context, t time.Time) (uint64, error)
	// AuditCheckpoints calls fn with every checkpoint, in order.
	AuditCheckpoints(ctx context.Context, fn func(audit.Checkpoint) error) error
	// AuditAnchor returns where the retained chain starts after a prune,
	// or nil when nothing was pruned.
	AuditAnchor(ctx context.Context) (*audit.Anchor, error)
	// Checkpoint signs the audit chain's head now (kind: audit.Checkpoint*).
	Checkpoint(ctx context.Context, kind string) error
	// PruneAudit removes the oldest audit records, whole segments between
	// checkpoints, older than before, and signs an anchor where the chain
	// now starts, keeping it verifiable; it returns how many it removed.
	// Checkpoints are never removed.
	PruneAudit(ctx context.Context, before time.Time) (int, error)
}

// Operations are what running a backend needs.
type Operations interface {
	// Stats counts what the store holds, cheaply enough for every scrape.
	Stats(ctx context.Context) (Stats, error)
	// Ready checks that the store is open and writable.
	Ready(ctx context.Context) error
	// Backup writes a consistent snapshot of the whole store to w while
	// reads and writes go on, and returns its size. A store that can sign
	// seals the audit chain's head in the snapshot with a checkpoint.
	Backup(ctx context.Context, w io.Writer) (int64, error)

	// Close releases the store; in-flight calls finish first. A store that
	// can sign signs a shutdown checkpoint first.
	Close() error
}

// Stats are the store's sizes.
type Stats struct {
	Objects map[string]int // object versions stored, by collection id
	Bytes   int64          // size of the store's data
}

// Object is one STIX object version to store: what stix.Validate found in
// it, and its JSON exactly as posted. Objects without a version (a zero
// Meta.Version) are versioned by their date_added.
type Object struct {
	stix.Meta
	Raw []byte
	// Message, if any, goes into the object's status detail when it is
	// stored (validation warnings, say).
	Message string
	// Where, if set, begins the message of a refusal: how the caller names
	// the object, such as "objects[3]".
	Where string
}

// Query selects object versions in a collection. The zero Query selects the
// latest version (in its latest spec version) of every object.
type Query struct {
	// AddedAfter keeps only versions added strictly after it (zero: all).
	AddedAfter time.Time
	// IDs and Types keep versions whose id, or type, is in the list (nil: any).
	IDs   []string
	Types []string
	// Versions chooses among an object's versions (zero: the last one).
	Versions VersionMatch
	// SpecVersions keeps versions with one of these spec_versions; nil keeps
	// only the versions in the newest spec_version stored for that object.
	SpecVersions []string
	// Limit is the page size; it must be positive.
	Limit int
	// MaxBytes, if positive, ends a page early once its objects' JSON adds
	// up to it (a page always holds at least one object).
	MaxBytes int
}

// VersionMatch is TAXII's match[version]: any combination of the first, the
// last, all, or versions at given instants. The zero value means Last.
// First and Last are taken among the versions that pass the spec_version
// filter, over all of the object's versions in the collection (not only
// those added after Query.AddedAfter).
type VersionMatch struct {
	All, First, Last bool
	At               []time.Time
}

// IsZero reports whether no version filter was given.
func (v VersionMatch) IsZero() bool {
	return !v.All && !v.First && !v.Last && len(v.At) == 0
}

// Entry is one stored object version.
type Entry struct {
	ID          string
	Version     string // as the object spells it, or date_added for unversioned objects
	SpecVersion string
	DateAdded   time.Time
	Raw         []byte // valid only inside the Query callback
}

// Page is one page of a Query's results.
type Page struct {
	Entries []Entry
	// More reports that further matching versions exist after the last entry.
	More bool
}

// Status is the outcome of one POST of objects.
type Status struct {
	ID          string
	Collection  string
	Owner       string // who posted: the principal's organization
	RequestTime time.Time
	Total       int
	Successes   []Detail
	Failures    []Detail
}

// Detail is the outcome for one object of a POST.
type Detail struct {
	ID      string
	Version string
	Message string
}

// AuditLog is the audit log in s, as audit.Verify reads it.
func AuditLog(ctx context.Context, s AuditTrail) audit.Log { return auditLog{ctx, s} }

type auditLog struct {
	ctx context.Context
	s   AuditTrail
}

func (l auditLog) Records(fn func(audit.Record) error) error {
	return l.s.AuditRecords(l.ctx, 0, fn)
}

func (l auditLog) Checkpoints(fn func(audit.Checkpoint) error) error {
	return l.s.AuditCheckpoints(l.ctx, fn)
}

func (l auditLog) Anchor() (*audit.Anchor, error) { return l.s.AuditAnchor(l.ctx) }

// Ingest turns an envelope's checked objects (stix.CheckEnvelope) into what
// Add takes: the objects to store, with their warnings as messages, and a
// failure detail for each one refused, naming it by its place.
func Ingest(checked []stix.Checked) (objs []Object, failures []Detail) {
	objs = make([]Object, 0, len(checked))
	for _, c := range checked {
		where := fmt.Sprintf("objects[%d]", c.Index)
		if c.Refused() {
			failures = append(failures, Detail{ID: c.Meta.ID, Version: c.Meta.VersionText, Message: where + ": " + stix.Summary(c.Problems)})
			continue
		}
		objs = append(objs, Object{Meta: c.Meta, Raw: c.Raw, Message: stix.Summary(c.Problems), Where: where})
	}
	return objs, failures
}
