package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/taxiihub/taxiihub/auth"
)

// headerAuth is a test authenticator: X-Test-Roles lists the roles of the
// principal, X-Test-Fail refuses the request, X-Test-Panic panics.
type headerAuth struct{}

func (headerAuth) Challenges() []string { return []string{`Bearer realm="test"`} }

func (headerAuth) Authenticate(r *http.Request, _ auth.Gate) (auth.Principal, error) {
	if r.Header.Get("X-Test-Panic") != "" {
		panic("authenticator exploded")
	}
	if msg := r.Header.Get("X-Test-Fail"); msg != "" {
		return auth.Principal{}, fmt.Errorf("%w: %s", auth.ErrUnauthenticated, msg)
	}
	if r.Header.Get("X-Test-Broken") != "" {
		return auth.Principal{}, errors.New("key store unreachable at 10.0.0.7")
	}
	var roles []string
	if v := r.Header.Get("X-Test-Roles"); v != "" {
		roles = strings.Split(v, ",")
	}
	return auth.Principal{Org: r.Header.Get("X-Test-Org"), Subject: "tester", Roles: roles}, nil
}

// accessCase is a request and the status it must get; a POST carries an
// envelope of one indicator.
type accessCase struct {
	name    string
	method  string
	path    string
	headers []string
	want    int
}

// checkAccess sends each case's request; an error status must come with a
// TAXII error resource.
func (h *hub) checkAccess(t *testing.T, cases []accessCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.method == "POST" {
				body = envelopeOf(indicator(ind2, v1))
			}
			res := h.do(tt.method, tt.path, body, tt.headers...)
			if tt.want < 300 {
				if res.status != tt.want {
					t.Fatalf("= %d %s", res.status, res.body)
				}
				return
			}
			errorBody(t, res, tt.want)
		})
	}
}

func TestAccess_CollectionsFollowThePolicy(t *testing.T) {
	h := newHub(t, withAuthenticator(headerAuth{}))
	rw := []string{"X-Test-Roles", "read,write"}
	st := h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1)), append(rw, "X-Test-Org", "fbi")...)
	if st.status != http.StatusAccepted {
		t.Fatalf("POST with write role = %d %s", st.status, st.body)
	}
	var posted status
	st.json(t, &posted)

	readOnly := []string{"X-Test-Roles", "read"}
	writeOnly := []string{"X-Test-Roles", "write"}
	none := []string{"X-Test-Roles", ""}
	objPath := objectsPath + ind1 + "/"
	tests := []accessCase{
		{"reader reads", "GET", objectsPath, readOnly, 200},
		{"reader may not post", "POST", objectsPath, readOnly, 403},
		{"reader may not delete", "DELETE", objPath, readOnly, 403},
		{"writer may not read", "GET", objectsPath, writeOnly, 403},
		{"writer may not read the manifest", "GET", manifestPath, writeOnly, 403},
		{"writer may not read an object", "GET", objPath, writeOnly, 403},
		{"writer may not read versions", "GET", objPath + "versions/", writeOnly, 403},
		{"writer may not delete", "DELETE", objPath, writeOnly, 403},
		{"no role: collection hidden", "GET", objectsPath, none, 404},
		{"no role: collection resource hidden", "GET", root + "collections/" + indicatorsID + "/", none, 404},
		{"no role: cannot post", "POST", objectsPath, none, 404},
		{"another org cannot see the status", "GET", root + "status/" + posted.ID + "/", append(readOnly, "X-Test-Org", "google"), 404},
		{"the posting org sees its status", "GET", root + "status/" + posted.ID + "/", append(readOnly, "X-Test-Org", "fbi"), 200},
	}
	h.checkAccess(t, tests)
	// A hidden collection answers exactly like a missing one.
	hidden := h.get(root+"collections/"+indicatorsID+"/objects/", none...)
	missing := h.get(root+"collections/00000000-0000-4000-8000-000000000000/objects/", none...)
	same := func(r response, key string) string {
		var e struct{ Title, Description string }
		r.json(t, &e)
		return e.Title + strings.ReplaceAll(e.Description, key, "KEY")
	}
	if hidden.status != missing.status || same(hidden, indicatorsID) != same(missing, "00000000-0000-4000-8000-000000000000") {
		t.Errorf("hidden collection answers %d %s", hidden.status, hidden.body)
	}
	var list struct {
		Collections []struct {
			CanRead  bool `json:"can_read"`
			CanWrite bool `json:"can_write"`
		} `json:"collections"`
	}
	h.get(root+"collections/", none...).json(t, &list)
	if len(list.Collections) != 0 {
		t.Errorf("a principal without roles sees %d collections", len(list.Collections))
	}
	h.get(root+"collections/", readOnly...).json(t, &list)
	if len(list.Collections) != 4 || !list.Collections[0].CanRead || list.Collections[0].CanWrite {
		t.Errorf("a reader sees %+v", list.Collections)
	}
}

func TestAccess_RefusedAuthenticationIs401WithChallenge(t *testing.T) {
	h := newHub(t, withAuthenticator(headerAuth{}))
	for _, path := range []string{"/taxii2/", root, objectsPath, root + "status/2d0e4b1a-7c3b-4a57-9a36-3f1a0b1c2d3e/"} {
		res := h.get(path, "X-Test-Fail", "token expired")
		desc := errorBody(t, res, http.StatusUnauthorized)
		if !strings.Contains(desc, "token expired") || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("GET %s: 401 %q, WWW-Authenticate %q", path, desc, res.header.Get("WWW-Authenticate"))
		}
	}
	// An internal failure says nothing of its cause.
	res := h.get(root, "X-Test-Broken", "1")
	if desc := errorBody(t, res, http.StatusUnauthorized); strings.Contains(desc, "10.0.0.7") {
		t.Errorf("401 leaks the cause: %q", desc)
	}
}

func TestPanicIsA500ErrorResource(t *testing.T) {
	h := newHub(t, withAuthenticator(headerAuth{}))
	desc := errorBody(t, h.get(objectsPath, "X-Test-Panic", "1"), http.StatusInternalServerError)
	if strings.Contains(desc, "exploded") {
		t.Errorf("500 leaks the panic: %q", desc)
	}
	if res := h.get(objectsPath, "X-Test-Roles", "read"); res.status != 200 {
		t.Fatalf("after a panic the hub answers %d", res.status)
	}
}
