package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestDiscovery_ListsAPIRootsWithDefault(t *testing.T) {
	h := newHub(t)
	for _, path := range []string{"/taxii2/", "/taxii2"} {
		res := h.get(path)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/taxii+json;version=2.1" {
			t.Fatalf("GET %s = %d %s", path, res.status, res.header.Get("Content-Type"))
		}
		var d struct {
			Title, Description, Contact, Default string
			APIRoots                             []string `json:"api_roots"`
		}
		res.json(t, &d)
		if d.Title != "Election Threat Sharing Hub" || d.Default != root || !slices.Equal(d.APIRoots, []string{root}) || d.Contact == "" {
			t.Fatalf("discovery = %+v", d)
		}
	}
}

func TestAPIRoot(t *testing.T) {
	h := newHub(t)
	var r struct {
		Title            string
		Versions         []string
		MaxContentLength int64 `json:"max_content_length"`
	}
	res := h.get(root)
	res.json(t, &r)
	if res.status != 200 || r.Title != "2020 election" || !slices.Equal(r.Versions, []string{"application/taxii+json;version=2.1"}) || r.MaxContentLength != 10485760 {
		t.Fatalf("api root = %d %+v", res.status, r)
	}
	errorBody(t, h.get("/election2016/"), http.StatusNotFound)
}

func TestCollections_SortedByIDAndAddressableByAlias(t *testing.T) {
	h := newHub(t)
	var list struct {
		Collections []struct {
			ID         string   `json:"id"`
			Alias      string   `json:"alias"`
			CanRead    *bool    `json:"can_read"`
			CanWrite   *bool    `json:"can_write"`
			MediaTypes []string `json:"media_types"`
		} `json:"collections"`
	}
	h.get(root+"collections/").json(t, &list)
	if len(list.Collections) != 4 {
		t.Fatalf("collections = %+v", list)
	}
	if !slices.IsSortedFunc(list.Collections, func(a, b struct {
		ID         string   `json:"id"`
		Alias      string   `json:"alias"`
		CanRead    *bool    `json:"can_read"`
		CanWrite   *bool    `json:"can_write"`
		MediaTypes []string `json:"media_types"`
	}) int {
		return strings.Compare(a.ID, b.ID)
	}) {
		t.Error("collections not sorted by id")
	}
	for _, c := range list.Collections {
		if c.CanRead == nil || !*c.CanRead || c.CanWrite == nil || !*c.CanWrite || c.MediaTypes[0] != "application/stix+json;version=2.1" {
			t.Errorf("collection %+v", c)
		}
	}
	byID, byAlias := h.get(root+"collections/"+indicatorsID+"/"), h.get(root+"collections/indicators/")
	if byID.status != 200 || string(byID.body) != string(byAlias.body) {
		t.Fatalf("by id %d %s, by alias %d %s", byID.status, byID.body, byAlias.status, byAlias.body)
	}
	if !strings.Contains(string(byID.body), indicatorsID) {
		t.Fatal("collection resource lacks its id")
	}
	upper := h.get(root + "collections/" + strings.ToUpper(indicatorsID) + "/")
	if upper.status != 200 {
		t.Errorf("collection by upper-case id = %d", upper.status)
	}
	errorBody(t, h.get(root+"collections/00000000-0000-4000-8000-000000000000/"), http.StatusNotFound)
	errorBody(t, h.get(root+"collections/indicators/objects/", "Accept", "application/xml"), http.StatusNotAcceptable)
}

func TestRoutes_WithAndWithoutTrailingSlashNoRedirect(t *testing.T) {
	h := newHub(t)
	for _, path := range []string{root, strings.TrimSuffix(root, "/"), objectsPath, strings.TrimSuffix(objectsPath, "/")} {
		if res := h.get(path); res.status != http.StatusOK {
			t.Errorf("GET %s = %d", path, res.status)
		}
	}
	// A redirect would turn a POST into a GET in many clients.
	if res := h.do(http.MethodPost, strings.TrimSuffix(objectsPath, "/"), envelopeOf(indicator(ind1, v1))); res.status != http.StatusAccepted {
		t.Errorf("POST without the trailing slash = %d", res.status)
	}
}

func TestRoutes_AnEmptySegmentIsNoResource(t *testing.T) {
	h := newHub(t)
	h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1)))
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "//"},
		{http.MethodGet, root + "/"},
		{http.MethodGet, root + "collections//"},
		{http.MethodGet, objectsPath + "/"},
		{http.MethodGet, objectsPath + "/versions"},
		{http.MethodDelete, objectsPath + "/"},
		{http.MethodPost, root + "collections//objects/"},
	} {
		res := h.do(tt.method, tt.path, nil)
		errorBody(t, res, http.StatusNotFound)
		if want := "no TAXII resource at " + tt.path; !strings.Contains(string(res.body), want) {
			t.Errorf("%s %s = %s; want %q", tt.method, tt.path, res.body, want)
		}
	}
	if res := h.get(objectsPath + ind1 + "/"); res.status != http.StatusOK {
		t.Errorf("the object is gone: %d %s", res.status, res.body)
	}
}

func TestErrors_AreTAXIIErrorResources(t *testing.T) {
	h := newHub(t)
	tests := []struct {
		name   string
		res    response
		status int
	}{
		{"unknown path", h.get("/no/such/thing/here/at/all/"), http.StatusNotFound},
		{"wrong method", h.do(http.MethodPut, objectsPath, []byte("{}")), http.StatusMethodNotAllowed},
		{"bad filter", h.get(objectsPath + "?limit=0"), http.StatusBadRequest},
		{"not acceptable", h.get(root, "Accept", "application/stix+json;version=2.1"), http.StatusNotAcceptable},
		{"unsupported media", h.do(http.MethodPost, objectsPath, envelopeOf(), "Content-Type", "application/json"), http.StatusUnsupportedMediaType},
		{"unprocessable", h.do(http.MethodPost, objectsPath, []byte(`{"objects":{}}`)), http.StatusUnprocessableEntity},
		{"unknown status", h.get(root + "status/2d0e4b1a-7c3b-4a57-9a36-3f1a0b1c2d3e/"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errorBody(t, tt.res, tt.status)
		})
	}
	if allow := tests[1].res.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("405 Allow = %q", allow)
	}
}
