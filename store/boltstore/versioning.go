package boltstore

import (
	"encoding/json"
	"fmt"

	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// versioningProblem says why o cannot join the versions of its object that
// are stored (ascending), or returns "". STIX 2.1 versioning: a new version keeps the
// object's creator (created_by_ref) and created; nothing follows a revoked
// version; marking definitions have a single version. Without these, one
// member could post a "newer version" of another member's indicator and
// replace it for every reader of the latest version.
func (c collection) versioningProblem(o store.Object, versions []objectVersion) string {
	if o.Type == "marking-definition" {
		return fmt.Sprintf("a marking definition cannot be versioned: %s is stored with created %s", o.ID, c.versionText(versions[0].added))
	}
	// Every stored version has the same creator and created, and only the
	// newest may be revoked: the newest is the one to compare with.
	newest := versions[len(versions)-1]
	rec, ok := decodeRecord(c.objects.Get(be64(newest.added)))
	if !ok {
		return ""
	}
	var stored struct {
		Created      string `json:"created"`
		CreatedByRef string `json:"created_by_ref"`
		Revoked      bool   `json:"revoked"`
	}
	if json.Unmarshal(rec.raw, &stored) != nil {
		return ""
	}
	created, _ := stix.ParseTimestamp(stored.Created)
	newestVersion := versionTime(newest.key)
	switch {
	case stix.CanonicalID(stored.CreatedByRef) != o.CreatedByRef:
		return fmt.Sprintf("created_by_ref: %s differs from the stored versions' (%s): only an object's creator makes new versions of it; post a new object instead",
			orNone(o.CreatedByRef), orNone(stored.CreatedByRef))
	case !created.Equal(o.Created):
		return fmt.Sprintf("created: a new version keeps created; the stored versions have %s", orNone(stored.Created))
	case stored.Revoked && newestVersion.Before(o.Version):
		return fmt.Sprintf("the object was revoked in version %s: no later version may follow", rec.verText)
	case o.Revoked && o.Version.Before(newestVersion):
		return fmt.Sprintf("revoked: version %s is stored and later, and a revoked version must be the last", rec.verText)
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
