package boltstore

import (
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// versioningProblem says why o cannot join the versions of its object that
// are stored (ascending), or returns "": stix.VersionProblem against the
// newest of them.
func (c collection) versioningProblem(o store.Object, versions []objectVersion) string {
	rec, ok := decodeRecord(c.objects.Get(be64(versions[len(versions)-1].added)))
	if !ok {
		return ""
	}
	raw, err := rec.decodeJSON(nil)
	if err != nil {
		return ""
	}
	newest, err := stix.ReadMeta(raw)
	if err != nil {
		return ""
	}
	return stix.VersionProblem(newest, o.Meta)
}
