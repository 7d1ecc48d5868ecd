package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/store"
)

type auditPage struct {
	Records []audit.Record `json:"records"`
	More    bool           `json:"more"`
	Next    string         `json:"next"`
}

func hubToken(t testing.TB, h *hub, org string, roles ...string) []string {
	t.Helper()
	tok, err := auth.IssueToken(auth.TokenRequest{Issuer: "taxiihub", Audience: "taxiihub-election2020", Org: org, Subject: org + "-user", Roles: roles, TTL: time.Hour}, h.hubKey, "hub")
	if err != nil {
		t.Fatal(err)
	}
	return bearer(tok)
}

func TestAudit_EveryKindOfRequestIsRecorded(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	fbi := hubToken(t, h, "fbi", "read", "write")
	google := hubToken(t, h, "google", "read")
	auditor := hubToken(t, h, "oversight", "audit")

	h.get("/taxii2/", fbi...)
	posted := h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1), indicator(ind1, v1), `{"type":"indicator"}`), fbi...)
	var st status
	posted.json(t, &st)
	h.get(objectsPath, google...)
	h.get(root+"status/"+st.ID+"/", fbi...)
	h.do(http.MethodDelete, objectsPath+ind1+"/", nil, fbi...)
	h.get(root+"collections/law-enforcement/objects/", google...) // hidden: 404
	h.get(objectsPath, bearer("forged.token.value")...)           // refused: 401
	h.get("/admin/audit", fbi...)                                 // no audit role: 403
	h.get("/nowhere/at/all/", fbi...)                             // no route: 404
	h.do(http.MethodPut, objectsPath, nil, fbi...)                // no such method: 405

	var page auditPage
	res := h.get("/admin/audit?limit=1000", auditor...)
	res.json(t, &page)
	if res.status != 200 || len(page.Records) != 10 {
		t.Fatalf("= %d, %d records: %s", res.status, len(page.Records), res.body)
	}
	r := page.Records
	check := func(i int, action string, status int, org string) {
		t.Helper()
		if r[i].Action != action || r[i].Status != status || r[i].Org != org || r[i].RequestID == "" || r[i].RemoteAddr == "" || r[i].Time.IsZero() {
			t.Errorf("record %d = %+v; want %s %d by %q", i, r[i], action, status, org)
		}
	}
	check(0, "discovery", 200, "fbi")
	check(1, "write", 202, "fbi")
	check(2, "read", 200, "google")
	check(3, "status", 200, "fbi")
	check(4, "delete", 200, "fbi")
	check(5, "read", 404, "google")
	check(6, "read", 401, "")
	check(7, "audit", 403, "fbi")
	// Requests no route takes are recorded too.
	if r[8].Status != 404 || r[8].Path != "/nowhere/at/all/" || r[9].Status != 405 || r[9].Method != http.MethodPut {
		t.Errorf("unrouted records = %+v, %+v", r[8], r[9])
	}
	if r[0].Path != "/taxii2/" || r[7].Path != "/admin/audit" {
		t.Errorf("recorded paths %q, %q; want them as sent, /taxii2/ and /admin/audit", r[0].Path, r[7].Path)
	}
	if len(r[1].Stored) != 1 || len(r[1].Unchanged) != 1 || len(r[1].Refused) != 1 || r[1].Stored[0].ID != ind1 || r[1].Collection != indicatorsID {
		t.Errorf("write record = %+v", r[1])
	}
	if r[1].AuthMethod != "jwt-hub" || r[1].Subject != "fbi-user" || r[1].TokenID == "" {
		t.Errorf("write record's principal = %+v", r[1])
	}
	if r[2].Returned != 1 || r[2].AddedFirst == nil || r[2].AddedLast == nil {
		t.Errorf("read record = %+v", r[2])
	}
	if len(r[4].Deleted) != 1 || r[4].Deleted[0].Version != v1 {
		t.Errorf("delete record = %+v", r[4])
	}
	if r[5].Collection != "e4a8b01a-b154-43a1-909e-78262f428224" || !strings.Contains(r[5].Reason, "no collection") { // recorded by id, for collection= to find
		t.Errorf("hidden-collection record = %+v", r[5])
	}
	if !strings.Contains(r[6].Reason, "malformed") || r[6].AuthMethod != "none" {
		t.Errorf("refused-token record = %+v", r[6])
	}
	if !strings.Contains(r[7].Reason, "audit role") {
		t.Errorf("refusal record = %+v", r[7])
	}
	// No secret ever reaches the log.
	all, _ := json.Marshal(page)
	for _, secret := range []string{strings.TrimPrefix(fbi[1], "Bearer "), strings.TrimPrefix(google[1], "Bearer "), "forged.token.value"} {
		if strings.Contains(string(all), secret) {
			t.Fatal("a token is in the audit log")
		}
	}
	var v struct {
		Verified bool   `json:"verified"`
		Records  int    `json:"records"`
		Message  string `json:"message"`
	}
	h.get("/admin/audit/verify", auditor...).json(t, &v)
	if !v.Verified || v.Records < 9 {
		t.Fatalf("verify = %+v", v)
	}
	errorBody(t, h.get("/admin/audit/verify", google...), http.StatusForbidden)
}

func TestAudit_FiltersPagesAndExport(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	fbi := hubToken(t, h, "fbi", "read")
	dhs := hubToken(t, h, "dhs", "read")
	auditor := hubToken(t, h, "oversight", "audit")
	for range 5 {
		h.get(objectsPath, fbi...)
		h.get(objectsPath, dhs...)
		h.get(root+"collections/reports/objects/", dhs...)
	}
	h.get(root+"collections/nope/objects/", fbi...)
	since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	until := time.Now().UTC().Add(time.Minute).Format(time.RFC3339Nano)
	tests := []struct {
		query string
		want  int
	}{
		{"org=fbi", 6},
		{"org=dhs&collection=" + indicatorsID, 5},
		{"org=dhs&collection=8d2b9c4e-1f6a-4b7d-a3e5-6c9f0e1d2a3b", 5},
		{"subject=dhs-user&action=read", 10},
		{"status=404", 1},
		{"action=write", 0},
		{"since=" + url.QueryEscape(since) + "&until=" + url.QueryEscape(until) + "&org=fbi", 6},
		{"until=2000-01-01T00:00:00Z", 0},
	}
	for _, tt := range tests {
		var page auditPage
		res := h.get("/admin/audit?"+tt.query, auditor...)
		res.json(t, &page)
		if res.status != 200 || len(page.Records) != tt.want || page.More {
			t.Errorf("%s: %d records (more %v), want %d", tt.query, len(page.Records), page.More, tt.want)
		}
	}
	for _, bad := range []string{"status=abc", "since=yesterday", "limit=0", "next=bogus"} {
		errorBody(t, h.get("/admin/audit?"+bad, auditor...), http.StatusBadRequest)
	}

	// Pages of 4 through the 10 dhs records, each exactly once.
	seen := map[uint64]bool{}
	path := "/admin/audit?org=dhs&limit=4"
	for pages := 0; ; pages++ {
		var page auditPage
		h.get(path, auditor...).json(t, &page)
		for _, r := range page.Records {
			if seen[r.Seq] || r.Org != "dhs" {
				t.Fatalf("record %d seen twice or not dhs's", r.Seq)
			}
			seen[r.Seq] = true
		}
		if !page.More {
			break
		}
		if pages > 5 || page.Next == "" {
			t.Fatal("pages do not end")
		}
		path = "/admin/audit?next=" + url.QueryEscape(page.Next)
	}
	if len(seen) != 10 {
		t.Fatalf("paged through %d dhs records, want 10", len(seen))
	}

	// NDJSON export: one JSON record per line.
	res := h.get("/admin/audit?org=fbi", append(auditor, "Accept", "application/x-ndjson")...)
	if res.status != 200 || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export = %d %s", res.status, res.header.Get("Content-Type"))
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(string(res.body)))
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Org != "fbi" {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != 6 {
		t.Fatalf("exported %d lines, want 6", lines)
	}
}

// failingAudit is the real store, except that the audit log cannot be
// written: the disk-full case.
type failingAudit struct{ store.Store }

func (failingAudit) Audit(context.Context, *audit.Record) error {
	return errors.New("no space left on device")
}

func TestAudit_FailsClosed(t *testing.T) {
	h := newHub(t)
	h.post(objectsPath, envelopeOf(indicator(ind1, v1)))
	h.restart(withStore(func(s store.Store) store.Store { return failingAudit{s} }))
	res := h.get(objectsPath)
	desc := errorBody(t, res, http.StatusServiceUnavailable)
	if strings.Contains(string(res.body), ind1) || !strings.Contains(desc, "audit log") {
		t.Fatalf("a request served without its audit record: %s", res.body)
	}
}

// failingQuery is the real store, except that a query fails after its
// page has been handed over, as a disk error half-way through would.
type failingQuery struct{ store.Store }

func (f failingQuery) Query(ctx context.Context, collection string, q store.Query, fn func(store.Page) error) error {
	return f.Store.Query(ctx, collection, q, func(p store.Page) error {
		if err := fn(p); err != nil {
			return err
		}
		return errors.New("read error after the page was written")
	})
}

func TestAudit_AFailureMidAnswerIsAnErrorNotATruncatedAnswer(t *testing.T) {
	h := newHub(t)
	h.post(objectsPath, envelopeOf(indicator(ind1, v1)))
	h.restart(withStore(func(s store.Store) store.Store { return failingQuery{s} }))
	res := h.get(objectsPath)
	errorBody(t, res, http.StatusInternalServerError)
	if strings.Contains(string(res.body), ind1) || res.header.Get("X-TAXII-Date-Added-First") != "" {
		t.Fatalf("a failed answer leaked its partial body or headers: %v %s", res.header, res.body)
	}
}

// What an auditor asks for, the audit API finds: a collection by alias,
// failed attempts on a member's credentials, an export of a few records;
// and what it cannot know it says so (400), instead of an empty answer.
func TestAudit_AuditorsFindWhatTheyLookFor(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	auditor := hubToken(t, h, "oversight", "audit")
	fbi := hubToken(t, h, "fbi", "read")
	h.get(objectsPath, fbi...)
	h.get(root+"collections/indicators/objects/", fbi...)
	// Attacks on FBI's credentials: a wrong API key secret, a forged token
	// under FBI's key id.
	h.get(objectsPath, basicAuth("fbi/sentinel", "guess")...)
	h.get(objectsPath, bearer(sign(t, jwt.SigningMethodES256, "fbi-2026", claims("fbi", func(c jwt.MapClaims) { c["iss"], c["sub"] = "fbi", "mallory" }), keys.dhsEC))...)

	records := func(query string) []audit.Record {
		t.Helper()
		var page auditPage
		res := h.get("/admin/audit?"+query, auditor...)
		if res.status != http.StatusOK {
			t.Fatalf("%s = %d %s", query, res.status, res.body)
		}
		res.json(t, &page)
		return page.Records
	}
	if byAlias, byID := records("collection=indicators&action=read&status=200"), records("collection="+indicatorsID+"&action=read&status=200"); len(byAlias) != 2 || len(byID) != 2 {
		t.Fatalf("reads of the collection by alias %d, by id %d; want 2", len(byAlias), len(byID))
	}
	var attacks []string
	for _, r := range records("org=fbi&status=401") {
		attacks = append(attacks, r.Claimed)
	}
	if len(attacks) != 2 || attacks[0] != "api-key fbi/sentinel" || attacks[1] != "kid fbi-2026, sub mallory" {
		t.Fatalf("failed attempts on FBI's credentials: %q", attacks)
	}
	for _, query := range []string{"org=kgb", "collection=no-such-collection"} {
		errorBody(t, h.get("/admin/audit?"+query, auditor...), http.StatusBadRequest)
	}
	res := h.get("/admin/audit?limit=3", append([]string{"Accept", "application/x-ndjson"}, auditor...)...)
	if lines := strings.Count(string(res.body), "\n"); res.status != http.StatusOK || lines != 3 {
		t.Fatalf("an export with limit=3: %d, %d lines", res.status, lines)
	}
}
