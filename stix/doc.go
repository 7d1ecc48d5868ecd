// Package stix owns STIX 2.1 as the hub sees it: timestamps, identifiers, the
// envelope and bundle containers, and the few properties every stored object
// must carry (type, id, version, spec_version). It imports nothing else of
// taxiihub's.
package stix
