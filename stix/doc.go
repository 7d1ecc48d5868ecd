// Package stix owns STIX 2.1 as the hub sees it: the envelope and bundle
// containers; validation of every object against the STIX 2.1 rules
// (common and per-type properties, identifiers in one canonical form,
// timestamps, patterns, markings and extensions), and the one ingest check
// (CheckEnvelope); the Meta the hub keeps of an object; the versioning rules
// between an object's versions; TLP levels and markings. It imports nothing
// else of taxiihub's.
package stix
