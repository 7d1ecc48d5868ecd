package server

import (
	"strconv"
	"strings"
)

// Media types the hub speaks.
const (
	mediaTAXII = "application/taxii+json;version=2.1"
	mediaSTIX  = "application/stix+json;version=2.1"
)

// mediaRange is one parsed item of an Accept or Content-Type header.
type mediaRange struct {
	typ, subtype string
	version      string  // the version parameter, "" if absent
	q            float64 // quality, 1 if absent
}

// parseMediaRanges parses a comma-separated list of media ranges leniently:
// any case, spaces around ';' and '=', quoted parameter values.
func parseMediaRanges(header string) []mediaRange {
	var out []mediaRange
	for item := range strings.SplitSeq(header, ",") {
		params := strings.Split(item, ";")
		typ, subtype, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
		if !ok {
			continue
		}
		mr := mediaRange{typ: strings.TrimSpace(typ), subtype: strings.TrimSpace(subtype), q: 1}
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(p, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch k {
			case "version":
				mr.version = v
			case "q":
				if q, err := strconv.ParseFloat(v, 64); err == nil {
					mr.q = q
				}
			}
		}
		out = append(out, mr)
	}
	return out
}

// isTAXII21 reports whether mr names TAXII 2.1: the TAXII type with version
// 2.1 or with no version ("the newest the server supports").
func (mr mediaRange) isTAXII21() bool {
	return mr.typ == "application" && mr.subtype == "taxii+json" && (mr.version == "" || mr.version == "2.1")
}

// acceptsTAXII reports whether an Accept header admits a TAXII 2.1
// response. No header, */*, application/* and application/json admit it
// (clients such as OpenCTI send "application/json, text/plain, */*").
func acceptsTAXII(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, mr := range parseMediaRanges(accept) {
		if mr.q <= 0 {
			continue
		}
		switch {
		case mr.isTAXII21(),
			mr.typ == "*" && mr.subtype == "*",
			mr.typ == "application" && (mr.subtype == "*" || mr.subtype == "json"):
			return true
		}
	}
	return false
}

// isTAXIIContent reports whether a request's Content-Type is TAXII 2.1.
func isTAXIIContent(contentType string) bool {
	ranges := parseMediaRanges(contentType)
	return len(ranges) == 1 && ranges[0].isTAXII21()
}
