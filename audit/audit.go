// Package audit owns the hub's tamper-evident audit log: the record of one
// request and the bounds on what it holds, the hash chain that links
// records, the checkpoints signed with the audit key and chained to each
// other, the anchor of a pruned chain's start, the witness that sends each
// signed head out of the hub, and the verification that finds the first
// record altered, removed, inserted, reordered or left unsealed. Storing
// records is the store's job; this package decides what they contain and
// how they chain. It imports nothing of taxiihub's.
package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Actions a request can perform.
const (
	ActionDiscovery = "discovery"
	ActionList      = "list"
	ActionRead      = "read"
	ActionWrite     = "write"
	ActionDelete    = "delete"
	ActionStatus    = "status"
	ActionAudit     = "audit"
	ActionAdmin     = "admin"
)

// Record is what the hub remembers of one request. It never holds a
// secret: no token, API key or Authorization header.
type Record struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"` // made by the hub, unique
	// ClientRequestID is the X-Request-Id the client sent, if any: kept
	// for correlation, never trusted to identify the record.
	ClientRequestID string `json:"client_request_id,omitempty"`
	Org             string `json:"org,omitempty"`
	Subject         string `json:"subject,omitempty"`
	TokenID         string `json:"token_id,omitempty"`
	AuthMethod      string `json:"auth_method"`
	RemoteAddr      string `json:"remote_addr"`
	UserAgent       string `json:"user_agent,omitempty"`
	Method          string `json:"method"`
	Path            string `json:"path"`
	APIRoot         string `json:"api_root,omitempty"`
	Collection      string `json:"collection,omitempty"`
	Action          string `json:"action"`
	Status          int    `json:"status"`
	Reason          string `json:"reason,omitempty"`
	// A failed authentication: the principal the credentials claimed (an
	// API key's org/name, a token's kid and sub, a certificate's subject)
	// and the organization it claims, so that attacks on one member's
	// credentials can be found.
	Claimed    string `json:"claimed,omitempty"`
	ClaimedOrg string `json:"claimed_org,omitempty"`

	// Writes: the object versions stored, already there, and refused.
	Stored    []ObjectVersion `json:"stored,omitempty"`
	Unchanged []ObjectVersion `json:"unchanged,omitempty"`
	Refused   []ObjectVersion `json:"refused,omitempty"`
	Deleted   []ObjectVersion `json:"deleted,omitempty"`
	// Reads: how many objects were returned, and their date_added range.
	Returned   int        `json:"returned,omitempty"`
	AddedFirst *time.Time `json:"added_first,omitempty"`
	AddedLast  *time.Time `json:"added_last,omitempty"`
	// Omitted counts the object versions left out of the lists above to
	// keep the record within MaxListed.
	Omitted int `json:"omitted,omitempty"`

	Prev string `json:"prev"` // hash of the previous record (hex)
	Hash string `json:"hash"` // SHA-256 over Prev and the record's canonical encoding
}

// ObjectVersion names one version of a STIX object.
type ObjectVersion struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Genesis is the Prev of the first record ever written: a hash of zeros.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Bounds on what a record holds: much of it comes from the client (paths,
// user agents, token subjects, the ids of objects refused), and a record is
// kept for years.
const (
	MaxField  = 1024  // bytes of any string field
	MaxMethod = 16    // bytes of the request's method (HTTP's longest is 7)
	MaxListed = 10000 // object versions listed, over all lists
)

// Bound cuts every string field to MaxField bytes (the user agent and the
// client's request id to less) and the object lists to MaxListed entries
// in all, counting what it left out in Omitted.
func (r *Record) Bound() {
	for _, f := range []struct {
		s *string
		n int
	}{
		{&r.RequestID, 64}, {&r.ClientRequestID, 64}, {&r.Org, 64}, {&r.Subject, 256}, {&r.TokenID, 128},
		{&r.AuthMethod, 16}, {&r.RemoteAddr, 64}, {&r.UserAgent, 256}, {&r.Method, MaxMethod}, {&r.Path, MaxField},
		{&r.APIRoot, 256}, {&r.Collection, 256}, {&r.Action, 16}, {&r.Reason, MaxField},
		{&r.Claimed, 256}, {&r.ClaimedOrg, 64},
	} {
		*f.s = Truncate(*f.s, f.n)
	}
	room := MaxListed
	for _, list := range []*[]ObjectVersion{&r.Stored, &r.Unchanged, &r.Refused, &r.Deleted} {
		if len(*list) > room {
			r.Omitted += len(*list) - room
			*list = (*list)[:room]
		}
		room -= len(*list)
		for i := range *list {
			v := &(*list)[i]
			v.ID, v.Version = Truncate(v.ID, 300), Truncate(v.Version, 64)
		}
	}
}

// Truncate shortens s to at most n bytes, on a character boundary,
// marking the cut with "…": how anything a client sent is bounded before
// it is kept.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Seal bounds r (Bound) and links it after a record whose hash is prev and
// whose sequence number is seq-1: it sets Seq, Prev and Hash, and Time to
// its canonical form. It returns r's JSON as it is kept, encoded once: the
// canonical encoding, with the hash in its place.
func (r *Record) Seal(seq uint64, prev string) []byte {
	r.Bound()
	r.Seq, r.Prev = seq, prev
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	canonical := r.canonical()
	sum := sha256.Sum256(canonical)
	r.Hash = hex.EncodeToString(sum[:])
	// Hash is the last field: the encoding ends "hash":""}.
	return append(append(canonical[:len(canonical)-len(`"}`)], r.Hash...), `"}`...)
}

// Sealed reports whether r's hash is the hash of its contents.
func (r Record) Sealed() bool { return r.computeHash() == r.Hash }

// computeHash is SHA-256 over r's canonical encoding. Prev is part of it,
// which chains the records.
func (r Record) computeHash() string {
	sum := sha256.Sum256(r.canonical())
	return hex.EncodeToString(sum[:])
}

// canonical is r's canonical encoding: its JSON without its Hash, fields in
// declaration order, times in UTC at microseconds.
func (r Record) canonical() []byte {
	r.Hash = ""
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	return r.appendCanonical(make([]byte, 0, r.encodedSize()))
}

// encodedSize is about the length of r's encoding with its hash: its
// strings, plus at most 600 bytes of names, times, numbers and the hash
// (560 with every field set), plus 34 a version. Sized so, the encoding and
// the hash Seal appends fit without growing the buffer, unless strings
// need escaping.
func (r *Record) encodedSize() int {
	n := 600
	for _, s := range []string{r.RequestID, r.ClientRequestID, r.Org, r.Subject, r.TokenID, r.AuthMethod, r.RemoteAddr,
		r.UserAgent, r.Method, r.Path, r.APIRoot, r.Collection, r.Action, r.Reason, r.Claimed, r.ClaimedOrg, r.Prev} {
		n += len(s)
	}
	for _, vs := range [][]ObjectVersion{r.Stored, r.Unchanged, r.Refused, r.Deleted} {
		for _, v := range vs {
			n += 34 + len(v.ID) + len(v.Version)
		}
	}
	return n
}

// Checkpoint is the hub's signed statement that the chain's record Seq has
// hash Head. Checkpoints are chained too: each names the digest of the one
// before it, so that none can be removed from the middle unseen, and the
// newest is the head a witness outside the hub keeps.
type Checkpoint struct {
	Seq  uint64    `json:"seq"`
	Head string    `json:"head"`
	Time time.Time `json:"time"`
	Kind string    `json:"kind"` // periodic, shutdown, or prune (logs written before anchors)
	// FirstSeq and FirstPrev: where a legacy prune checkpoint left the chain.
	FirstSeq  uint64 `json:"first_seq,omitempty"`
	FirstPrev string `json:"first_prev,omitempty"`
	Prev      string `json:"prev,omitempty"` // Digest of the previous checkpoint; "" for the first
	Key       string `json:"key,omitempty"`  // KeyID of the signing key; "" before audit keys had ids
	Signature string `json:"signature"`      // Ed25519 over the rest, hex
}

// Checkpoint kinds.
const (
	CheckpointPeriodic = "periodic"
	CheckpointShutdown = "shutdown"
	CheckpointPrune    = "prune" // written by older builds; an Anchor does its work now
)

// KeyID names a checkpoint key: the first 8 bytes of the SHA-256 of the
// public key, hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func (c Checkpoint) signed() []byte {
	c.Signature = ""
	c.Time = c.Time.UTC().Truncate(time.Microsecond)
	b, _ := json.Marshal(c)
	return b
}

// Sign sets c.Key and c.Signature with the audit key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Key = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = hex.EncodeToString(ed25519.Sign(key, c.signed()))
}

// Digest is what the next checkpoint names as its Prev: SHA-256 over the
// checkpoint, signature included, hex.
func (c Checkpoint) Digest() string {
	c.Time = c.Time.UTC().Truncate(time.Microsecond)
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// verifiedBy reports whether the key c names, one of keys, signed it; a
// checkpoint that names none is checked with legacy.
func (c Checkpoint) verifiedBy(keys []ed25519.PublicKey, legacy ed25519.PublicKey) bool {
	if c.Key == "" { // an older build's: it named no key
		return legacy != nil && signedBy([]ed25519.PublicKey{legacy}, KeyID(legacy), c.Signature, c.signed())
	}
	return signedBy(keys, c.Key, c.Signature, c.signed())
}

// signedBy reports whether the key of keys that keyID names made the hex
// signature sig of payload.
func signedBy(keys []ed25519.PublicKey, keyID, sig string, payload []byte) bool {
	raw, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	for _, pub := range keys {
		if keyID == KeyID(pub) && ed25519.Verify(pub, payload, raw) {
			return true
		}
	}
	return false
}

// Anchor is the hub's signed statement of where the retained chain starts,
// after older records were pruned: record FirstSeq, whose Prev is
// FirstPrev. It is kept apart from the checkpoints and replaced only by
// the next prune.
type Anchor struct {
	FirstSeq  uint64    `json:"first_seq"`
	FirstPrev string    `json:"first_prev"`
	Time      time.Time `json:"time"`
	Key       string    `json:"key"`
	Signature string    `json:"signature"`
}

func (a Anchor) signed() []byte {
	a.Signature = ""
	a.Time = a.Time.UTC().Truncate(time.Microsecond)
	b, _ := json.Marshal(a)
	return b
}

// Sign sets a.Key and a.Signature with the audit key.
func (a *Anchor) Sign(key ed25519.PrivateKey) {
	a.Key = KeyID(key.Public().(ed25519.PublicKey))
	a.Signature = hex.EncodeToString(ed25519.Sign(key, a.signed()))
}

func (a Anchor) verifiedBy(keys []ed25519.PublicKey) bool {
	return signedBy(keys, a.Key, a.Signature, a.signed())
}

// ErrTampered is wrapped by every verification failure.
var ErrTampered = errors.New("the audit log has been tampered with")

// ErrWrongKeyOrTampered is wrapped by a signature that does not verify:
// the keys given may not be the ones that signed, or the log was altered.
var ErrWrongKeyOrTampered = fmt.Errorf("%w, or the keys given are not the audit log's", ErrTampered)

// Log is the audit log as verification reads it: records and checkpoints in
// ascending sequence order, and the anchor if records were pruned.
type Log interface {
	Records(fn func(Record) error) error
	Checkpoints(fn func(Checkpoint) error) error
	Anchor() (*Anchor, error)
}

// VerifyOptions say what else Verify must find.
type VerifyOptions struct {
	// Keys verify checkpoints and anchors: the audit key's public key, and
	// any earlier audit key.
	Keys []ed25519.PublicKey
	// LegacyKey verifies the checkpoints that name no key: those older
	// builds signed with the hub's token key, before it had an audit key.
	LegacyKey ed25519.PublicKey
	// AllowUnsealed accepts records after the newest checkpoint, and
	// counts them in Result.Unsealed; without it they fail verification.
	AllowUnsealed bool
	// MinSeq fails verification unless a checkpoint covers record MinSeq:
	// the log was not cut back before a head an auditor saw.
	MinSeq uint64
	// Head, if set, is a head an auditor kept: a signed checkpoint from a
	// witness, or a record's number and hash noted before (unsigned). The
	// log must hold a checkpoint or a record at its Seq with its Head hash,
	// and a checkpoint at or after it.
	Head *Checkpoint
}

// Result is a successful verification.
type Result struct {
	Records    int    // records verified
	FirstSeq   uint64 // the first retained record
	LastSeq    uint64
	Checkpoint uint64 // sequence number of the newest checkpoint
	Unsealed   int    // records after it (with AllowUnsealed)
}

func (r Result) String() string {
	if r.Records == 0 {
		return "verified 0 records"
	}
	s := fmt.Sprintf("verified %d records (%d to %d) up to checkpoint %d", r.Records, r.FirstSeq, r.LastSeq, r.Checkpoint)
	if r.Unsealed > 0 {
		s += fmt.Sprintf("; %d records after it are not yet sealed by a checkpoint", r.Unsealed)
	}
	return s
}

// Verify recomputes the chain and checks every checkpoint's signature and
// link. It returns the first problem found, naming the record: a record
// altered (its hash is wrong), removed or inserted (a gap or break in the
// sequence), reordered (its Prev is not its predecessor's hash), a forged
// or removed checkpoint, records missing from the tail a checkpoint
// vouched for, records no checkpoint covers (unless opts.AllowUnsealed),
// or a log cut back before opts.MinSeq or opts.Head.
func Verify(log Log, opts VerifyOptions) (Result, error) {
	var checkpoints []Checkpoint
	if err := log.Checkpoints(func(c Checkpoint) error {
		if !c.verifiedBy(opts.Keys, opts.LegacyKey) {
			return fmt.Errorf("%w: checkpoint %d (%s) has an invalid signature: a wrong key, or tampering", ErrWrongKeyOrTampered, c.Seq, c.Kind)
		}
		if n := len(checkpoints); c.Key != "" && (n == 0 && c.Prev != "" || n > 0 && c.Prev != checkpoints[n-1].Digest()) {
			return fmt.Errorf("%w: checkpoint %d does not follow the checkpoint before it (one was removed or replaced)", ErrTampered, c.Seq)
		}
		checkpoints = append(checkpoints, c)
		return nil
	}); err != nil {
		return Result{}, err
	}
	// The chain starts at the genesis, or where the anchor (or, in older
	// logs, the newest prune checkpoint) left it.
	wantSeq, wantPrev := uint64(1), Genesis
	for _, c := range checkpoints {
		if c.Kind == CheckpointPrune {
			wantSeq, wantPrev = c.FirstSeq, c.FirstPrev
		}
	}
	anchor, err := log.Anchor()
	if err != nil {
		return Result{}, err
	}
	if anchor != nil {
		if !anchor.verifiedBy(opts.Keys) {
			return Result{}, fmt.Errorf("%w: the anchor of the retained chain has an invalid signature", ErrTampered)
		}
		wantSeq, wantPrev = anchor.FirstSeq, anchor.FirstPrev
	}
	heads := map[uint64]string{}
	for _, c := range checkpoints {
		heads[c.Seq] = c.Head
	}
	res := Result{LastSeq: wantSeq - 1}
	headSeen := false
	err = log.Records(func(r Record) error {
		switch {
		case r.Seq < wantSeq && res.Records == 0:
			return nil // pruned away, before the retained chain
		case r.Seq != wantSeq:
			if r.Seq > wantSeq {
				return fmt.Errorf("%w: record %d is missing (found %d next)", ErrTampered, wantSeq, r.Seq)
			}
			return fmt.Errorf("%w: record %d is out of place after record %d", ErrTampered, r.Seq, wantSeq-1)
		case r.Prev != wantPrev:
			return fmt.Errorf("%w: record %d does not follow record %d (removed, inserted or reordered)", ErrTampered, r.Seq, r.Seq-1)
		case !r.Sealed():
			return fmt.Errorf("%w: record %d was altered", ErrTampered, r.Seq)
		}
		if head, ok := heads[r.Seq]; ok && head != r.Hash {
			return fmt.Errorf("%w: record %d differs from what checkpoint %d signed", ErrTampered, r.Seq, r.Seq)
		}
		if opts.Head != nil && r.Seq == opts.Head.Seq {
			if r.Hash != opts.Head.Head {
				return fmt.Errorf("%w: record %d differs from the head kept outside the hub", ErrTampered, r.Seq)
			}
			headSeen = true
		}
		if res.Records == 0 {
			res.FirstSeq = r.Seq
		}
		res.Records++
		res.LastSeq = r.Seq
		wantSeq, wantPrev = r.Seq+1, r.Hash
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	for _, c := range checkpoints {
		if c.Seq > res.LastSeq {
			return Result{}, fmt.Errorf("%w: checkpoint %d vouches for records after %d, the last one present: the tail was cut", ErrTampered, c.Seq, res.LastSeq)
		}
		res.Checkpoint = max(res.Checkpoint, c.Seq)
	}
	if opts.Head != nil {
		if err := holdsHead(checkpoints, *opts.Head, headSeen, opts); err != nil {
			return Result{}, err
		}
		opts.MinSeq = max(opts.MinSeq, opts.Head.Seq)
	}
	if opts.MinSeq > res.Checkpoint {
		return Result{}, fmt.Errorf("%w: the log was cut back: no checkpoint covers record %d (the newest covers %d)", ErrTampered, opts.MinSeq, res.Checkpoint)
	}
	if res.LastSeq > res.Checkpoint {
		res.Unsealed = int(res.LastSeq - max(res.Checkpoint, res.FirstSeq-1))
		if !opts.AllowUnsealed {
			return Result{}, fmt.Errorf("%w (or the hub stopped before sealing them): %d records (%d to %d) are not covered by a signed checkpoint", ErrTampered, res.Unsealed, res.LastSeq-uint64(res.Unsealed)+1, res.LastSeq)
		}
	}
	return res, nil
}

// holdsHead checks a head kept outside the hub against the log: a signed
// one must verify, and the log must hold a checkpoint at its record with
// the same hash, or the record itself (recordSeen: it matched).
func holdsHead(checkpoints []Checkpoint, head Checkpoint, recordSeen bool, opts VerifyOptions) error {
	if head.Signature != "" && !head.verifiedBy(opts.Keys, opts.LegacyKey) {
		return fmt.Errorf("the head given (checkpoint %d) is not signed by a key given", head.Seq)
	}
	for _, c := range checkpoints {
		if c.Seq == head.Seq {
			if c.Head != head.Head {
				return fmt.Errorf("%w: checkpoint %d differs from the head kept outside the hub", ErrTampered, c.Seq)
			}
			return nil
		}
	}
	if recordSeen {
		return nil
	}
	return fmt.Errorf("%w: the head kept outside the hub (record %d) is not in the log", ErrTampered, head.Seq)
}
