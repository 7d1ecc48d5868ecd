package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/stix"
)

const (
	ind1 = "indicator--11111111-1111-4111-8111-111111111111"
	ind2 = "indicator--22222222-2222-4222-8222-222222222222"
	v1   = "2020-10-01T00:00:00.000Z"
	v2   = "2020-10-02T00:00:00.000Z"
	v3   = "2020-10-03T00:00:00.000Z"
)

// objectIDs lists "id@modified" of an envelope's objects.
func objectIDs(t *testing.T, res response) []string {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var env envelope
	res.json(t, &env)
	var out []string
	for _, raw := range env.Objects {
		var o struct{ ID, Modified string }
		json.Unmarshal(raw, &o)
		out = append(out, o.ID+"@"+o.Modified)
	}
	return out
}

func TestPost_RoundTripsBytesAndReportsExactStatus(t *testing.T) {
	h := newHub(t)
	bundle := readFile(t, "../testdata/bundles/election-sample.json")
	st := h.post(objectsPath, bundle)
	if st.Status != "complete" || st.TotalCount != 9 || st.SuccessCount != 9 || st.FailureCount != 0 || st.PendingCount != 0 || len(st.Successes) != 9 {
		t.Fatalf("status = %+v", st)
	}
	if !stix.ValidUUIDv4(st.ID) {
		t.Errorf("status id %q is not a UUIDv4", st.ID)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", st.RequestTime); err != nil {
		t.Errorf("request_timestamp %q: %v", st.RequestTime, err)
	}
	// Every stored version comes back byte for byte.
	var posted struct{ Objects []json.RawMessage }
	json.Unmarshal(bundle, &posted)
	res := h.get(objectsPath + "?match[version]=all")
	var env envelope
	res.json(t, &env)
	if len(env.Objects) != len(posted.Objects) {
		t.Fatalf("got %d objects, want %d", len(env.Objects), len(posted.Objects))
	}
	for i := range posted.Objects {
		if !bytes.Equal(env.Objects[i], posted.Objects[i]) {
			t.Errorf("object %d changed:\n got %s\nwant %s", i, env.Objects[i], posted.Objects[i])
		}
	}
	// The status stays retrievable, also after a restart.
	h.restart()
	var again status
	res = h.get(root + "status/" + st.ID + "/")
	res.json(t, &again)
	if res.status != 200 || again.ID != st.ID || again.SuccessCount != 9 || len(again.Successes) != 9 {
		t.Fatalf("status after restart = %d %+v", res.status, again)
	}
}

func TestPost_ExampleBundlesFromOASIS(t *testing.T) {
	dir := "../../shared/reference/stix2-json-schemas/examples"
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("the OASIS examples are not beside this checkout")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			h := newHub(t)
			bundle := readFile(t, file)
			var posted struct{ Objects []json.RawMessage }
			json.Unmarshal(bundle, &posted)
			if posted.Objects == nil { // a lone object, not a bundle
				posted.Objects = []json.RawMessage{bytes.TrimSpace(bundle)}
				bundle = envelopeOf(string(bundle))
			}
			// Some are marked TLP:RED: post them where that is allowed.
			path := root + "collections/law-enforcement/objects/"
			st := h.post(path, bundle)
			if st.FailureCount != 0 || st.SuccessCount != len(posted.Objects) {
				t.Fatalf("status = %+v", st)
			}
			var env envelope
			h.get(path+"?match[version]=all&limit=1000").json(t, &env)
			if len(env.Objects) != len(posted.Objects) {
				t.Fatalf("read back %d of %d", len(env.Objects), len(posted.Objects))
			}
			for i := range posted.Objects {
				if !bytes.Equal(env.Objects[i], posted.Objects[i]) {
					t.Fatalf("object %d differs", i)
				}
			}
		})
	}
}

func TestPost_InvalidObjectsAreFailuresAndValidOnesStored(t *testing.T) {
	h := newHub(t)
	st := h.post(objectsPath, envelopeOf(
		indicator(ind1, v1),
		`{"id":"indicator--22222222-2222-4222-8222-222222222222","modified":"2020-10-01T00:00:00.000Z"}`,
		`{"type":"indicator","id":"malware--33333333-3333-4333-8333-333333333333","modified":"2020-10-01T00:00:00.000Z"}`,
		`{"type":"indicator","id":"indicator--not-a-uuid","modified":"2020-10-01T00:00:00.000Z"}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--44444444-4444-4444-8444-444444444444","created":"2020-01-01T00:00:00.000Z","modified":"yesterday","pattern":"[file:name = 'a']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--55555555-5555-4555-8555-555555555555","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","pattern":"[file:name = 'a'","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}`,
		`{"type":7,"id":"indicator--66666666-6666-4666-8666-666666666666"}`,
		`"just a string"`,
		indicator(ind1, v1), // a repeat of the first: already there, not a failure
	))
	if st.TotalCount != 9 || st.SuccessCount != 2 || st.FailureCount != 7 || len(st.Failures) != 7 {
		t.Fatalf("status = %+v", st)
	}
	wantWords := []string{"type: required", "does not begin with the object's type", "not an RFC 4122 UUID", "modified:", "pattern: invalid STIX pattern at character 16", "type: must be a string", "not a JSON object"}
	for i, want := range wantWords {
		if !strings.Contains(st.Failures[i].Message, want) {
			t.Errorf("failure %d = %q, want it to mention %q", i, st.Failures[i].Message, want)
		}
	}
	if st.Successes[1].Message == "" {
		t.Errorf("a repeated object should say it was already added: %+v", st.Successes[1])
	}
	if got := objectIDs(t, h.get(objectsPath+"?match[version]=all")); !slices.Equal(got, []string{ind1 + "@" + v1}) {
		t.Fatalf("stored %v", got)
	}
}

func TestPost_BodyErrors(t *testing.T) {
	h := newHub(t, withConfig(func(c *config.Config) { c.MaxContentLength = 1000 }))
	tests := []struct {
		name    string
		body    []byte
		headers []string
		status  int
	}{
		{"not JSON", []byte(`{"objects": [`), nil, http.StatusBadRequest},
		{"JSON array", []byte(`[1,2]`), nil, http.StatusUnprocessableEntity},
		{"no objects", []byte(`{"type":"bundle"}`), nil, http.StatusUnprocessableEntity},
		{"objects not a list", []byte(`{"objects":"x"}`), nil, http.StatusUnprocessableEntity},
		{"objects null", []byte(`{"objects":null}`), nil, http.StatusUnprocessableEntity},
		{"too large", envelopeOf(strings.Repeat(indicator(ind1, v1)+",", 10) + indicator(ind2, v1)), nil, http.StatusRequestEntityTooLarge},
		{"no content type", envelopeOf(), []string{"Content-Type", ""}, http.StatusUnsupportedMediaType},
		{"json content type", envelopeOf(), []string{"Content-Type", "application/json"}, http.StatusUnsupportedMediaType},
		{"stix content type", envelopeOf(), []string{"Content-Type", "application/stix+json;version=2.1"}, http.StatusUnsupportedMediaType},
		{"taxii 2.0", envelopeOf(), []string{"Content-Type", "application/taxii+json;version=2.0"}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errorBody(t, h.do(http.MethodPost, objectsPath, tt.body, tt.headers...), tt.status)
		})
	}
	if got := objectIDs(t, h.get(objectsPath)); len(got) != 0 {
		t.Fatalf("a refused POST stored %v", got)
	}
}

// A body of junk cannot make the hub hold, and keep in a status, a refusal
// for each of its objects: past stix.MaxRefused refused objects the POST is
// refused whole, and nothing of it is stored, not even the valid ones.
func TestPost_TooManyRefusedObjectsRefuseTheEnvelope(t *testing.T) {
	h := newHub(t)
	junk := strings.Repeat("{},", stix.MaxRefused)
	msg := errorBody(t, h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1)+","+junk+"{}")), http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "more than 10000") || !strings.Contains(msg, "objects[10001]") {
		t.Errorf("refusal %q", msg)
	}
	if got := objectIDs(t, h.get(objectsPath)); len(got) != 0 {
		t.Fatalf("a refused envelope stored %v", got)
	}
	// One fewer is a POST like any other: each refused object in its status.
	st := h.post(objectsPath, envelopeOf(indicator(ind1, v1)+","+strings.TrimSuffix(junk, ",")))
	if st.SuccessCount != 1 || st.FailureCount != stix.MaxRefused {
		t.Fatalf("status %d stored, %d refused", st.SuccessCount, st.FailureCount)
	}
}

func TestPost_ChunkedBodyOverLimitIs413(t *testing.T) {
	h := newHub(t, withConfig(func(c *config.Config) { c.MaxContentLength = 1000 }))
	pr, pw := io.Pipe() // a body without Content-Length
	go func() {
		pw.Write(envelopeOf(strings.Repeat(indicator(ind1, v1)+",", 20) + indicator(ind2, v1)))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, h.url+objectsPath, pr)
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversize POST = %d", res.StatusCode)
	}
}

// Bodies larger than the first read buffer arrive whole, whether they
// declare their length or come chunked.
func TestPost_LargeBodiesArriveWhole(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	token := hubToken(t, h, "fbi", "read", "write")
	for _, declared := range []bool{true, false} {
		first := 0
		if !declared {
			first = 300
		}
		body := synth.RealisticEnvelope(first, 300) // about 300 KB
		var r io.Reader = bytes.NewReader(body)
		if !declared {
			r = io.MultiReader(r) // no length known: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, h.url+objectsPath, r)
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		req.Header.Set(token[0], token[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var st status
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusAccepted || st.SuccessCount != 300 || req.ContentLength > 0 != declared {
			t.Fatalf("a %d-byte body (length declared: %v) = %d %+v %v", len(body), declared, res.StatusCode, st, err)
		}
	}
}

func TestPost_ContentTypesRealClientsSend(t *testing.T) {
	h := newHub(t)
	for i, ct := range []string{
		"application/taxii+json;version=2.1",
		"application/taxii+json; version=2.1",
		"application/taxii+json ; version=\"2.1\"",
		"APPLICATION/TAXII+JSON;VERSION=2.1",
		"application/taxii+json",
		"application/taxii+json;version=2.1;charset=utf-8",
	} {
		id := fmt.Sprintf("indicator--%08d-1111-4111-8111-111111111111", i)
		if res := h.do(http.MethodPost, objectsPath, envelopeOf(indicator(id, v1)), "Content-Type", ct); res.status != http.StatusAccepted {
			t.Errorf("Content-Type %q = %d %s", ct, res.status, res.body)
		}
	}
}

func TestGet_AcceptHeadersRealClientsSend(t *testing.T) {
	h := newHub(t)
	tests := []struct {
		accept string
		ok     bool
	}{
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json; version=2.1", true},
		{"application/taxii+json", true},
		{"application/json, text/plain, */*", true},
		{"*/*", true},
		{"", true},
		{"application/xml, application/taxii+json;version=2.1;q=0.5", true},
		{"application/taxii+json;version=2.0", false},
		{"application/stix+json;version=2.1", false},
		{"text/html", false},
		{"application/taxii+json;version=2.1;q=0", false},
	}
	for _, tt := range tests {
		res := h.get(objectsPath, "Accept", tt.accept)
		if tt.ok && res.status != http.StatusOK || !tt.ok && res.status != http.StatusNotAcceptable {
			t.Errorf("Accept %q = %d", tt.accept, res.status)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/taxii+json;version=2.1" {
			t.Errorf("Accept %q: Content-Type %q", tt.accept, ct)
		}
	}
}

// seed posts three versions of ind1 (out of order), one of ind2, and a
// malware, a domain-name SCO and a threat actor.
func seed(t *testing.T, h *hub) {
	t.Helper()
	h.post(objectsPath, envelopeOf(indicator(ind1, v2), indicator(ind2, v1)))
	h.post(objectsPath, envelopeOf(
		indicator(ind1, v1),
		`{"type":"malware","spec_version":"2.1","id":"malware--33333333-3333-4333-8333-333333333333","created":"2020-10-01T00:00:00.000Z","modified":"2020-10-01T00:00:00.000Z","name":"x","is_family":false}`,
		`{"type":"domain-name","spec_version":"2.1","id":"domain-name--44444444-4444-4444-8444-444444444444","value":"vote-info.example"}`,
	))
	h.post(objectsPath, envelopeOf(
		indicator(ind1, v3),
		`{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--55555555-5555-4555-8555-555555555555","created":"2020-10-01T00:00:00.000Z","modified":"2020-10-01T00:00:00.000Z","name":"x"}`,
	))
}

const (
	mal = "malware--33333333-3333-4333-8333-333333333333@" + v1
	ta  = "threat-actor--55555555-5555-4555-8555-555555555555@" + v1
	dom = "domain-name--44444444-4444-4444-8444-444444444444@"
)

// An answer goes out whole with its length declared, however long: net/http
// would send one over 2 KiB in chunks, not knowing it is whole.
func TestGet_AnswersDeclareTheirLength(t *testing.T) {
	h := newHub(t)
	h.post(objectsPath, envelopeOf(numberedIndicators(50)...))
	if n := len(h.get(objectsPath).body); n < 8<<10 {
		t.Fatalf("a page of %d bytes is too short to be chunked", n)
	}
	for _, path := range []string{objectsPath, objectsPath + "?limit=1", "/taxii2/", root + "collections/nope/"} {
		res := h.get(path)
		if res.header.Get("Content-Length") != strconv.Itoa(len(res.body)) {
			t.Errorf("GET %s: %d, Content-Length %q for %d bytes", path, res.status, res.header.Get("Content-Length"), len(res.body))
		}
	}
}

func TestGetObjects_Filters(t *testing.T) {
	h := newHub(t)
	seed(t, h)
	var manifest struct {
		Objects []struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
		} `json:"objects"`
	}
	h.get(manifestPath+"?match[version]=all").json(t, &manifest)
	addedAt := map[string]string{}
	for _, o := range manifest.Objects {
		addedAt[o.ID] = o.DateAdded // the last version's for ind1
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{ind2 + "@" + v1, mal, dom, ind1 + "@" + v3, ta}},
		{"match[type]=indicator", []string{ind2 + "@" + v1, ind1 + "@" + v3}},
		{"match[type]=malware,threat-actor", []string{mal, ta}},
		{"match[type]=%20malware%20,%20threat-actor", []string{mal, ta}},
		{"match[id]=" + ind1, []string{ind1 + "@" + v3}},
		{"match[id]=" + ind1 + "," + ind2, []string{ind2 + "@" + v1, ind1 + "@" + v3}},
		{"match[id]=" + ind1 + "&match[version]=all", []string{ind1 + "@" + v2, ind1 + "@" + v1, ind1 + "@" + v3}},
		{"match[id]=" + ind1 + "&match[version]=first", []string{ind1 + "@" + v1}},
		{"match[id]=" + ind1 + "&match[version]=first,last", []string{ind1 + "@" + v1, ind1 + "@" + v3}},
		{"match[id]=" + ind1 + "&match[version]=2020-10-02T00:00:00Z", []string{ind1 + "@" + v2}},
		{"match[id]=" + ind1 + "&match[version]=2020-10-02T00:00:00.000000Z,first", []string{ind1 + "@" + v2, ind1 + "@" + v1}},
		{"match[type]=indicator&match[version]=all&match[id]=" + ind2, []string{ind2 + "@" + v1}},
		{"match[type]=malware&match[id]=" + ind1, nil},
		{"match[spec_version]=2.0", nil},
		{"match[spec_version]=2.1&match[type]=threat-actor", []string{ta}},
		{"match[spec_version]=2.0,2.1&match[type]=threat-actor,malware", []string{mal, ta}},
		{"added_after=" + url.QueryEscape(addedAt["malware--33333333-3333-4333-8333-333333333333"]), []string{dom, ind1 + "@" + v3, ta}},
		{"added_after=" + url.QueryEscape(addedAt[ind1]), []string{ta}},
		{"added_after=2099-01-01T00:00:00Z", nil},
		{"added_after=2000-01-01T00:00:00Z&match[type]=indicator", []string{ind2 + "@" + v1, ind1 + "@" + v3}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := objectIDs(t, h.get(objectsPath+"?"+tt.query))
			// The SCO's version is its date_added: compare it by id only.
			for i, g := range got {
				if strings.HasPrefix(g, "domain-name--") {
					got[i] = dom
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestGetObjects_InvalidFiltersName400(t *testing.T) {
	h := newHub(t)
	for _, tt := range []struct{ query, names string }{
		{"limit=0", "limit"},
		{"limit=-3", "limit"},
		{"limit=ten", "limit"},
		{"added_after=yesterday", "added_after"},
		{"added_after=2020-10-01T00:00:00%2B00:00", "added_after"},
		{"match[type]=indicator&match[type]=malware", "match[type]"},
		{"match[type]=Indicator", "match[type]"},
		{"match[type]=indicator,", "match[type]"},
		{"match[id]=nope", "match[id]"},
		{"match[version]=latest", "match[version]"},
		{"match[spec_version]=two", "match[spec_version]"},
		{"match[colour]=red", "match[colour]"},
		{"next=forged", "next"},
		{"limit=1&limit=2", "limit"},
	} {
		desc := errorBody(t, h.get(objectsPath+"?"+tt.query), http.StatusBadRequest)
		if !strings.HasPrefix(desc, tt.names) {
			t.Errorf("%s: description %q does not name %s", tt.query, desc, tt.names)
		}
	}
	// Fields an endpoint does not take.
	errorBody(t, h.get(root+"collections/indicators/objects/"+ind1+"/?match[type]=indicator"), http.StatusBadRequest)
	errorBody(t, h.get(root+"collections/indicators/objects/"+ind1+"/versions/?match[version]=all"), http.StatusBadRequest)
	errorBody(t, h.do(http.MethodDelete, root+"collections/indicators/objects/"+ind1+"/?limit=3", nil), http.StatusBadRequest)
}

// pageAll follows next from the first page to the last and returns every
// object id@version and the number of pages.
func pageAll(t *testing.T, h *hub, first string, between func(page int)) ([]string, int) {
	t.Helper()
	var all []string
	path := first
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
		res := h.get(path)
		var env envelope
		res.json(t, &env)
		all = append(all, objectIDs(t, res)...)
		if env.More != (env.Next != "") {
			t.Fatalf("page %d: more=%v next=%q", page, env.More, env.Next)
		}
		if len(env.Objects) > 0 && (res.header.Get("X-TAXII-Date-Added-First") == "" || res.header.Get("X-TAXII-Date-Added-Last") == "") {
			t.Fatalf("page %d lacks X-TAXII-Date-Added headers", page)
		}
		if !env.More {
			return all, page
		}
		if between != nil {
			between(page)
		}
		base, _, _ := strings.Cut(first, "?")
		path = base + "?next=" + url.QueryEscape(env.Next)
	}
}

func TestPagination_NextCarriesTheQuery(t *testing.T) {
	h := newHub(t, withConfig(func(c *config.Config) { c.MaxPageSize = 7 }))
	var objs []string
	for i := range 40 {
		typ := "indicator"
		if i%4 == 0 {
			typ = "malware"
		}
		objs = append(objs, strings.Replace(indicator(fmt.Sprintf("%s--%08d-1111-4111-8111-111111111111", typ, i), v1), `"indicator"`, `"`+typ+`"`, 1))
	}
	h.post(objectsPath, envelopeOf(objs...))
	// limit above the maximum is clamped, and next alone continues the query.
	got, pages := pageAll(t, h, objectsPath+"?match[type]=indicator&limit=500", nil)
	if len(got) != 30 || pages != 5 || len(slices.Compact(slices.Clone(got))) != 30 {
		t.Fatalf("got %d objects in %d pages", len(got), pages)
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "indicator--") {
			t.Fatalf("next lost the type filter: %s", g)
		}
	}
	// Repeating the filters with next is fine; changing them is a 400.
	var env envelope
	h.get(objectsPath+"?match[type]=indicator&limit=3").json(t, &env)
	if res := h.get(objectsPath + "?match[type]=indicator&next=" + url.QueryEscape(env.Next)); res.status != 200 {
		t.Fatalf("next with the same filter = %d %s", res.status, res.body)
	}
	if res := h.get(objectsPath + "?limit=5&next=" + url.QueryEscape(env.Next)); res.status != 200 || len(objectIDs(t, res)) != 5 {
		t.Fatalf("next with another limit = %d %s", res.status, res.body)
	}
	errorBody(t, h.get(objectsPath+"?match[type]=malware&next="+url.QueryEscape(env.Next)), http.StatusBadRequest)
	// A different added_after with next (older OpenCTI): the later of it and
	// the cursor wins, so the pass neither goes back nor skips.
	alone := objectIDs(t, h.get(objectsPath+"?next="+url.QueryEscape(env.Next)))
	if got := objectIDs(t, h.get(objectsPath+"?added_after=2020-01-01T00:00:00Z&next="+url.QueryEscape(env.Next))); !slices.Equal(got, alone) {
		t.Fatalf("next with an older added_after: %v, want %v", got, alone)
	}
	if got := objectIDs(t, h.get(objectsPath+"?added_after=2100-01-01T00:00:00Z&next="+url.QueryEscape(env.Next))); len(got) != 0 {
		t.Fatalf("next with a later added_after: %v", got)
	}
	errorBody(t, h.get(manifestPath+"?next="+url.QueryEscape(env.Next)), http.StatusBadRequest)
	tampered := []byte(env.Next)
	tampered[5] ^= 1
	errorBody(t, h.get(objectsPath+"?next="+url.QueryEscape(string(tampered))), http.StatusBadRequest)

	// Cursors survive a restart.
	h.restart(withConfig(func(c *config.Config) { c.MaxPageSize = 7 }))
	if res := h.get(objectsPath + "?next=" + url.QueryEscape(env.Next)); res.status != 200 || len(objectIDs(t, res)) != 3 {
		t.Fatalf("next after restart = %d %s", res.status, res.body)
	}
}

func TestPagination_ConcurrentWritersNeverRepeatOrLose(t *testing.T) {
	h := newHub(t)
	h.post(objectsPath, envelopeOf(numberedIndicators(200)...))

	// The writers start once the first page is served, and every next page
	// waits for one more of their posts: the pass and the writes overlap.
	const writers, posts = 3, 30
	start := make(chan struct{})
	var posted atomic.Int32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range posts {
				// New objects, and new versions of objects already seen.
				fresh := indicator(fmt.Sprintf("indicator--%04d%04d-2222-4222-8222-222222222222", w, i), v1)
				newer := indicator(fmt.Sprintf("indicator--%08d-1111-4111-8111-111111111111", (i*7+w)%200), fmt.Sprintf("2021-01-01T00:00:%02d.%03dZ", w, i))
				h.post(objectsPath, envelopeOf(fresh, newer))
				posted.Add(1)
			}
		})
	}
	got, pages := pageAll(t, h, objectsPath+"?limit=9", func(page int) {
		if page == 1 {
			close(start)
		}
		for posted.Load() < int32(min(page, writers*posts)) {
			runtime.Gosched()
		}
	})
	wg.Wait()
	if pages < 3 {
		t.Fatalf("the pass took %d pages; the writes could not land between them", pages)
	}

	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("%s served twice", g)
		}
		seen[g] = true
		id, _, _ := strings.Cut(g, "@")
		ids[id] = true
	}
	for i := range 200 {
		if id := fmt.Sprintf("indicator--%08d-1111-4111-8111-111111111111", i); !ids[id] {
			t.Fatalf("%s, stored before the pass began, was never served", id)
		}
	}
}

func TestObject_VersionsManifestAndDelete(t *testing.T) {
	h := newHub(t)
	seed(t, h)
	objPath := root + "collections/indicators/objects/" + ind1 + "/"

	if got := objectIDs(t, h.get(objPath)); !slices.Equal(got, []string{ind1 + "@" + v3}) {
		t.Fatalf("object = %v", got)
	}
	if got := objectIDs(t, h.get(objPath+"?match[version]=all&limit=2")); len(got) != 2 {
		t.Fatalf("object page = %v", got)
	}
	all, pages := pageAll(t, h, objPath+"?match[version]=all&limit=2", nil)
	if len(all) != 3 || pages != 2 {
		t.Fatalf("object pages = %v in %d", all, pages)
	}

	var versions struct {
		More     bool     `json:"more"`
		Versions []string `json:"versions"`
	}
	res := h.get(objPath + "versions/")
	res.json(t, &versions)
	// In date_added order, as every paginated endpoint.
	if !slices.Equal(versions.Versions, []string{v2, v1, v3}) || versions.More || res.header.Get("X-TAXII-Date-Added-First") == "" {
		t.Fatalf("versions = %+v", versions)
	}
	errorBody(t, h.get(root+"collections/indicators/objects/indicator--99999999-9999-4999-8999-999999999999/"), http.StatusNotFound)
	errorBody(t, h.get(root+"collections/indicators/objects/indicator--99999999-9999-4999-8999-999999999999/versions/"), http.StatusNotFound)

	var manifest struct {
		More    bool `json:"more"`
		Objects []struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
			Version   string `json:"version"`
			MediaType string `json:"media_type"`
		} `json:"objects"`
	}
	res = h.get(manifestPath + "?match[id]=" + ind1 + "&match[version]=all")
	res.json(t, &manifest)
	if len(manifest.Objects) != 3 || manifest.Objects[0].MediaType != "application/stix+json;version=2.1" ||
		res.header.Get("X-TAXII-Date-Added-First") != manifest.Objects[0].DateAdded ||
		res.header.Get("X-TAXII-Date-Added-Last") != manifest.Objects[2].DateAdded {
		t.Fatalf("manifest = %+v, headers %v", manifest, res.header)
	}
	for _, m := range manifest.Objects {
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z", m.DateAdded); err != nil || len(m.DateAdded) != 27 {
			t.Errorf("date_added %q is not a TAXII timestamp", m.DateAdded)
		}
	}

	// Delete one version, then the rest.
	res = h.do(http.MethodDelete, objPath+"?match[version]="+v3, nil)
	if res.status != 200 || len(res.body) != 0 {
		t.Fatalf("delete = %d %s", res.status, res.body)
	}
	if got := objectIDs(t, h.get(objPath)); !slices.Equal(got, []string{ind1 + "@" + v2}) {
		t.Fatalf("after deleting the last version: %v", got)
	}
	if res := h.do(http.MethodDelete, objPath, nil); res.status != 200 {
		t.Fatalf("delete = %d %s", res.status, res.body)
	}
	errorBody(t, h.get(objPath), http.StatusNotFound)
	errorBody(t, h.do(http.MethodDelete, objPath, nil), http.StatusNotFound)
	if got := objectIDs(t, h.get(objectsPath+"?match[type]=indicator")); !slices.Equal(got, []string{ind2 + "@" + v1}) {
		t.Fatalf("after delete the collection lists %v", got)
	}
}

func TestEmptyCollection(t *testing.T) {
	h := newHub(t)
	for _, path := range []string{objectsPath, manifestPath} {
		res := h.get(path)
		if res.status != 200 || res.header.Get("X-TAXII-Date-Added-First") != "" || strings.Contains(string(res.body), "objects") {
			t.Fatalf("GET %s = %d %s %v", path, res.status, res.body, res.header)
		}
	}
}

func TestPost_ValidationPerCollection(t *testing.T) {
	strict := false
	h := newHub(t, withConfig(func(c *config.Config) {
		c.APIRoots[0].Collections[1].AllowCustom = &strict // reports
	}))
	reports := root + "collections/reports/objects/"
	customProp := `{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--55555555-5555-4555-8555-555555555555","created":"2020-10-01T00:00:00.000Z","modified":"2020-10-01T00:00:00.000Z","name":"x","x_acme_score":7}`
	customType := `{"type":"x-ballot-box","spec_version":"2.1","id":"x-ballot-box--55555555-5555-4555-8555-555555555555","created":"2020-10-01T00:00:00.000Z","modified":"2020-10-01T00:00:00.000Z"}`
	dubious := strings.Replace(indicator(ind1, v1), `[ipv4-addr:value = '198.51.100.1']`, `[ipv4-addr:value = '198.51.100.1' AND file:name = 'x']`, 1)

	st := h.post(objectsPath, envelopeOf(customProp, customType, dubious))
	if st.SuccessCount != 3 || st.FailureCount != 0 {
		t.Fatalf("a collection allowing custom content: %+v", st)
	}
	if !strings.HasPrefix(st.Successes[2].Message, "warning: pattern: comparisons joined by AND") {
		t.Errorf("a pattern warning is not reported: %+v", st.Successes[2])
	}

	st = h.post(reports, envelopeOf(customProp, customType, indicator(ind2, v1)))
	if st.SuccessCount != 1 || st.FailureCount != 2 {
		t.Fatalf("a collection refusing custom content: %+v", st)
	}
	for _, f := range st.Failures {
		if !strings.Contains(f.Message, "custom") || f.Version != "2020-10-01T00:00:00.000Z" {
			t.Errorf("failure %+v", f)
		}
	}
}
