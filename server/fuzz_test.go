package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/taxiihub/taxiihub/config"
)

func FuzzMediaRanges(f *testing.F) {
	for _, s := range []string{"application/taxii+json;version=2.1", `application/taxii+json ; version="2.1";q=0.5, */*;q=0`, ";;,=,", "a/b;q=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		accepted, lower := acceptsTAXII(header), strings.ToLower(header)
		if !acceptsTAXII(header + ", " + mediaTAXII) {
			t.Fatalf("%q with TAXII 2.1 added is refused", header)
		}
		if accepted && strings.TrimSpace(header) != "" && !acceptsTAXII(header+", text/plain") {
			t.Fatalf("%q is accepted, but not with another range added", header)
		}
		if accepted && !strings.Contains(lower, "taxii+json") && !strings.Contains(lower, "*") && !strings.Contains(lower, "json") && strings.TrimSpace(header) != "" {
			t.Fatalf("%q names neither TAXII, JSON nor a wildcard, yet is accepted", header)
		}
		if isTAXIIContent(header) && !strings.Contains(lower, "taxii+json") {
			t.Fatalf("%q is taken for TAXII content", header)
		}
	})
}

func FuzzListParams(f *testing.F) {
	s := &Server{cursors: cursorCodec{key: make([]byte, 32)}}
	cfg := &config.Config{DefaultPageSize: 10, MaxPageSize: 100}
	valid := s.cursors.seal(cursor{Scope: "objects:c", Filters: map[string]string{"match[type]": "indicator"}, Limit: 10, After: 5})
	f.Add("next=" + valid + "&match[type]=indicator&limit=3")
	f.Add("match[version]=first,2020-01-01T00:00:00Z&added_after=2020-01-01T00:00:00.5Z")
	f.Add("match[id]=,&match[spec_version]=2.1&limit=-1")
	f.Fuzz(func(t *testing.T, query string) {
		params, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		for _, ep := range []endpoint{epObjects, epManifest, epObject, epVersions, epDelete} {
			lr, err := s.parseList(cfg, params, ep, "c")
			if err != nil {
				continue
			}
			if lr.query.Limit < 1 || lr.query.Limit > 100 {
				t.Fatalf("%s: limit %d escaped the bounds", query, lr.query.Limit)
			}
		}
	})
}
