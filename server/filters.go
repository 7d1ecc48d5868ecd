package server

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// endpoint names a paginated endpoint and the match fields it accepts
// (TAXII 2.1 sections 5.3 to 5.8).
type endpoint struct {
	name   string
	fields []string
	paged  bool // takes added_after, limit and next
}

var (
	epObjects  = endpoint{"objects", []string{"id", "type", "version", "spec_version"}, true}
	epManifest = endpoint{"manifest", []string{"id", "type", "version", "spec_version"}, true}
	epObject   = endpoint{"object", []string{"version", "spec_version"}, true}
	epVersions = endpoint{"versions", []string{"spec_version"}, true}
	epDelete   = endpoint{"delete", []string{"version", "spec_version"}, false}
)

// accepts names the parameters ep takes, for error messages.
func (ep endpoint) accepts() string {
	var names []string
	if ep.paged {
		names = append(names, "added_after", "limit", "next")
	}
	for _, f := range ep.fields {
		names = append(names, "match["+f+"]")
	}
	return strings.Join(names, ", ")
}

// maxPageBytes bounds the objects' JSON in one page: responses are held in
// memory until their audit record is written.
const maxPageBytes = 8 << 20

// listRequest is a parsed request for one page.
type listRequest struct {
	scope   string
	filters map[string]string // canonical filter values by parameter name
	query   store.Query
}

// parseList reads the filter, limit and next parameters of a request to ep
// on scope (the collection, and object, addressed), under cfg. A next token
// continues the query it was issued for: filters it does not repeat are
// taken from it, match[] filters it repeats must be equal, and limit may
// change. An added_after sent with next may differ (older OpenCTI moved it
// to each page's X-TAXII-Date-Added-Last, truncated to milliseconds): the
// page starts after the later of it and the cursor, so a pass never goes
// back (no loop) and skips only what the client asked to skip.
func (s *Server) parseList(cfg *config.Config, params url.Values, ep endpoint, scope string) (listRequest, error) {
	lr := listRequest{scope: ep.name + ":" + scope, filters: map[string]string{}}
	limit, token := 0, ""
	for name, values := range params {
		field, isMatch := matchField(name)
		if !isMatch && name != "added_after" && name != "limit" && name != "next" {
			continue // not ours: ignored, as HTTP parameters usually are
		}
		if !isMatch && !ep.paged {
			return lr, newError(http.StatusBadRequest, "%s: this endpoint filters only on %s", name, ep.accepts())
		}
		if len(values) > 1 {
			return lr, newError(http.StatusBadRequest, "%s: given %d times; give it once, with a comma-separated list if needed", name, len(values))
		}
		value := values[0]
		switch {
		case name == "limit":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return lr, newError(http.StatusBadRequest, "limit: %q is not a positive integer", value)
			}
			limit = n
		case name == "next":
			token = value
		case name == "added_after":
			t, err := stix.ParseTimestamp(value)
			if err != nil {
				return lr, newError(http.StatusBadRequest, "added_after: %v", err)
			}
			lr.filters[name] = t.Format(time.RFC3339Nano)
		case !slices.Contains(ep.fields, field):
			return lr, newError(http.StatusBadRequest, "%s: this endpoint filters only on %s", name, ep.accepts())
		default:
			canon, err := canonicalList(name, value)
			if err != nil {
				return lr, err
			}
			lr.filters[name] = canon
		}
	}
	var after, askedAfter time.Time
	if token != "" {
		cur, err := s.cursors.open(token)
		if err != nil {
			return lr, newError(http.StatusBadRequest, "next: %v", err)
		}
		if cur.Scope != lr.scope {
			return lr, newError(http.StatusBadRequest, "next: the token was issued for another endpoint or collection")
		}
		for name, value := range lr.filters {
			if name == "added_after" {
				askedAfter, _ = time.Parse(time.RFC3339Nano, value)
				continue
			}
			if cur.Filters[name] != value {
				return lr, newError(http.StatusBadRequest, "%s: differs from the query the next token continues; repeat it unchanged or leave it out", name)
			}
		}
		lr.filters = cur.Filters
		if lr.filters == nil {
			lr.filters = map[string]string{}
		}
		if limit == 0 {
			limit = cur.Limit
		}
		after = time.UnixMicro(cur.After)
	}
	if limit == 0 {
		limit = cfg.DefaultPageSize
	}
	lr.query.Limit = min(limit, cfg.MaxPageSize)
	lr.query.MaxBytes = maxPageBytes
	if err := lr.buildQuery(); err != nil {
		return lr, err
	}
	for _, t := range []time.Time{after, askedAfter} {
		if t.After(lr.query.AddedAfter) {
			lr.query.AddedAfter = t
		}
	}
	return lr, nil
}

// nextToken is the next token of the page after p: the sealed cursor that
// continues lr after p's last entry, or "" on the last page.
func (s *Server) nextToken(lr listRequest, p store.Page) string {
	if !p.More {
		return ""
	}
	last := p.Entries[len(p.Entries)-1]
	return s.cursors.seal(cursor{Scope: lr.scope, Filters: lr.filters, Limit: lr.query.Limit, After: last.DateAdded.UnixMicro()})
}

// matchField returns x for a parameter named match[x].
func matchField(name string) (string, bool) {
	if !strings.HasPrefix(name, "match[") || !strings.HasSuffix(name, "]") {
		return "", false
	}
	return name[len("match[") : len(name)-1], true
}

var specVersionForm = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// canonicalList checks a match parameter's comma-separated values and
// returns them without spaces.
func canonicalList(name, value string) (string, error) {
	field, _ := matchField(name)
	items := strings.Split(value, ",")
	for i, item := range items {
		item = strings.TrimSpace(item)
		items[i] = item
		var problem string
		switch {
		case item == "":
			problem = "is empty"
		case field == "id":
			if _, err := stix.SplitID(item); err != nil {
				problem = "is not a STIX identifier (type--UUID)"
			}
		case field == "type":
			if !stix.ValidTypeName(item) {
				problem = "is not a STIX type name"
			}
		case field == "version":
			if item != "first" && item != "last" && item != "all" {
				if _, err := stix.ParseTimestamp(item); err != nil {
					problem = "is not first, last, all or a STIX timestamp"
				}
			}
		case field == "spec_version":
			if !specVersionForm.MatchString(item) {
				problem = "is not a spec version such as 2.1"
			}
		}
		if problem != "" {
			return "", newError(http.StatusBadRequest, "%s: %q %s", name, item, problem)
		}
	}
	return strings.Join(items, ","), nil
}

// buildQuery turns the canonical filters into a store query.
func (lr *listRequest) buildQuery() error {
	q := &lr.query
	for name, value := range lr.filters {
		field, _ := matchField(name)
		items := strings.Split(value, ",")
		switch {
		case name == "added_after":
			t, err := time.Parse(time.RFC3339Nano, value)
			if err != nil {
				return newError(http.StatusBadRequest, "added_after: %v", err)
			}
			q.AddedAfter = t
		case field == "id":
			for i := range items {
				items[i] = stix.CanonicalID(items[i])
			}
			q.IDs = items
		case field == "type":
			q.Types = items
		case field == "spec_version":
			q.SpecVersions = items
		case field == "version":
			for _, item := range items {
				switch item {
				case "first":
					q.Versions.First = true
				case "last":
					q.Versions.Last = true
				case "all":
					q.Versions.All = true
				default:
					t, err := stix.ParseTimestamp(item)
					if err != nil {
						return newError(http.StatusBadRequest, "match[version]: %v", err)
					}
					q.Versions.At = append(q.Versions.At, t)
				}
			}
		}
	}
	return nil
}
