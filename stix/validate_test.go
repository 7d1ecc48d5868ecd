package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const (
	created  = "2020-09-01T12:00:00.000Z"
	modified = "2020-09-02T12:00:00.000Z"
	uuid4    = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	identity = "identity--" + uuid4
	tlpAmber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
)

// minimal holds, per type, the properties beyond the common ones that make
// a valid object of that type.
var minimal = map[string]map[string]any{
	"attack-pattern":   {"name": "Spear phishing of election officials"},
	"campaign":         {"name": "Operation Ballot Box", "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2020-11-03T00:00:00Z"},
	"course-of-action": {"name": "Take down the domain"},
	"grouping":         {"context": "suspicious-activity", "object_refs": []any{identity}},
	"identity":         {"name": "Cyber Security and Infrastructure Security Agency", "identity_class": "organization"},
	"incident":         {"name": "Defacement of a county election site"},
	"indicator":        {"pattern": "[domain-name:value = 'vote-info.example']", "pattern_type": "stix", "valid_from": "2020-09-01T00:00:00Z"},
	"infrastructure":   {"name": "Troll farm proxy network", "infrastructure_types": []any{"anonymization"}},
	"intrusion-set":    {"name": "Fancy Ballot", "goals": []any{"influence the election"}},
	"location":         {"country": "us", "region": "northern-america"},
	"malware":          {"is_family": false},
	"malware-analysis": {"product": "sandbox", "result": "malicious"},
	"note":             {"content": "Seen again in October.", "object_refs": []any{identity}},
	"observed-data":    {"first_observed": "2020-10-01T00:00:00Z", "last_observed": "2020-10-01T01:00:00Z", "number_observed": 3, "object_refs": []any{"ipv4-addr--" + uuid4}},
	"opinion":          {"opinion": "agree", "object_refs": []any{identity}},
	"report":           {"name": "Influence operations, Q3", "published": "2020-10-01T00:00:00Z", "object_refs": []any{identity}},
	"threat-actor":     {"name": "Internet Research Agency", "threat_actor_types": []any{"nation-state"}},
	"tool":             {"name": "Bot manager"},
	"vulnerability":    {"name": "CVE-2020-0001", "external_references": []any{map[string]any{"source_name": "cve", "external_id": "CVE-2020-0001"}}},

	"relationship": {"relationship_type": "attributed-to", "source_ref": "campaign--" + uuid4, "target_ref": "threat-actor--" + uuid4},
	"sighting":     {"sighting_of_ref": "indicator--" + uuid4, "count": 2, "where_sighted_refs": []any{identity}},

	"marking-definition":   {"definition_type": "statement", "definition": map[string]any{"statement": "Copyright 2020, FBI"}},
	"language-content":     {"object_ref": "campaign--" + uuid4, "contents": map[string]any{"de": map[string]any{"name": "Operation Wahlurne"}}},
	"extension-definition": {"created_by_ref": identity, "name": "x-vote", "schema": "https://example.com/schema", "version": "1.0", "extension_types": []any{"property-extension"}},

	"artifact":             {"payload_bin": "YWJj"},
	"autonomous-system":    {"number": 15169},
	"directory":            {"path": "C:\\Windows"},
	"domain-name":          {"value": "vote-info.example"},
	"email-addr":           {"value": "polls@vote-info.example"},
	"email-message":        {"is_multipart": false, "body": "Your polling place has moved."},
	"file":                 {"name": "ballot.pdf", "hashes": map[string]any{"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
	"ipv4-addr":            {"value": "198.51.100.0/24"},
	"ipv6-addr":            {"value": "2001:db8::1"},
	"mac-addr":             {"value": "00:1a:2b:3c:4d:5e"},
	"mutex":                {"name": "Global\\vote"},
	"network-traffic":      {"protocols": []any{"ipv4", "tcp"}, "dst_ref": "ipv4-addr--" + uuid4, "dst_port": 443},
	"process":              {"pid": 4242},
	"software":             {"name": "Bot manager", "version": "2.1"},
	"url":                  {"value": "https://vote-info.example/closed"},
	"user-account":         {"account_login": "fake_voter_news", "account_type": "twitter"},
	"windows-registry-key": {"key": "HKEY_LOCAL_MACHINE\\Software\\Vote"},
	"x509-certificate":     {"serial_number": "02:00:00:00:00:00:00:00"},
}

// build makes an object of typ from minimal plus the common properties of
// its kind, then applies changes (a nil value deletes the property).
func build(typ string, changes map[string]any) []byte {
	obj := map[string]any{"type": typ, "id": typ + "--" + uuid4, "spec_version": "2.1"}
	switch definitions[typ].kind {
	case kindSDO, kindSRO, kindLanguage, kindExtension:
		obj["created"], obj["modified"] = created, modified
	case kindMarking:
		obj["created"] = created
	}
	for k, v := range minimal[typ] {
		obj[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(obj, k)
		} else {
			obj[k] = v
		}
	}
	b, _ := json.Marshal(obj)
	return b
}

func TestValidate_MinimalObjectOfEveryType(t *testing.T) {
	if len(minimal) != len(definitions) {
		t.Fatalf("minimal covers %d types, definitions has %d", len(minimal), len(definitions))
	}
	for typ := range definitions {
		m, problems := Validate(build(typ, nil), Options{})
		if len(problems) != 0 {
			t.Errorf("%s: %v", typ, problems)
		}
		if m.Type != typ || m.SpecVersion != "2.1" {
			t.Errorf("%s: meta %+v", typ, m)
		}
	}
}

func TestValidate_Meta(t *testing.T) {
	m, _ := Validate(build("indicator", nil), Options{})
	if m.VersionText != modified || m.Version.Format("2006-01-02T15:04:05.000Z") != modified ||
		m.Created.Format("2006-01-02T15:04:05.000Z") != created || m.Revoked {
		t.Errorf("indicator version = %+v", m)
	}
	if m, _ := Validate(build("indicator", map[string]any{"revoked": true}), Options{}); !m.Revoked {
		t.Errorf("a revoked indicator: %+v", m)
	}
	m, _ = Validate(build("marking-definition", nil), Options{})
	if m.VersionText != created {
		t.Errorf("a marking definition is versioned by created: %+v", m)
	}
	m, problems := Validate(build("ipv4-addr", map[string]any{"spec_version": nil}), Options{})
	if len(problems) != 0 || !m.Version.IsZero() || m.SpecVersion != "2.1" {
		t.Errorf("an SCO without spec_version is 2.1 and unversioned: %+v %v", m, problems)
	}
}

// The objects of the STIX 2.1 specification's examples.
var specExamples = []string{
	`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","description":"This file is part of Poison Ivy","pattern":"[ file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
	`{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","name":"Cryptolocker","description":"A variant of the cryptolocker family","malware_types":["ransomware"],"is_family":false}`,
	`{"type":"campaign","spec_version":"2.1","id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"Green Group Attacks Against Finance","description":"Campaign by Green Group against a series of targets in the financial services sector."}`,
	`{"type":"identity","spec_version":"2.1","id":"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"John Smith","identity_class":"individual"}`,
	`{"type":"relationship","spec_version":"2.1","id":"relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e","created":"2016-04-06T20:06:37.000Z","modified":"2016-04-06T20:06:37.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
	`{"type":"sighting","spec_version":"2.1","id":"sighting--ee20065d-2555-424f-ad9e-0f8428623c75","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:08:31.000Z","modified":"2016-04-06T20:08:31.000Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","where_sighted_refs":["identity--b67d30ff-02ac-498a-92f9-32f845f448ff"]}`,
	`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`,
	`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}}}`,
	`{"type":"file","spec_version":"2.1","id":"file--e277603e-1060-5ad4-9937-c26c97f1ca68","hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},"size":25536,"name":"foo.dll"}`,
	`{"type":"network-traffic","spec_version":"2.1","id":"network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d","src_ref":"ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53","dst_ref":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","protocols":["tcp","http"],"extensions":{"http-request-ext":{"request_method":"get","request_value":"/download.html","request_version":"http/1.1","request_header":{"Accept-Encoding":"gzip,deflate","Host":"www.example.com"}}}}`,
	`{"type":"email-message","spec_version":"2.1","id":"email-message--cf9b4b7f-14c8-5955-8065-020e0316b559","is_multipart":true,"received_lines":["from mail.example.com ([198.51.100.3]) by smtp.gmail.com with ESMTPSA id q23sm23309939wme.17.2016.07.19.07.20.32"],"content_type":"multipart/mixed","date":"2016-06-19T14:20:40.000Z","from_ref":"email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed","to_refs":["email-addr--d1b3bf0c-f02a-51a1-8102-11aba7959868"],"subject":"Check out this picture of a cat!","additional_header_fields":{"Content-Disposition":"inline","X-Mailer":"Mutt/1.5.23"},"body_multipart":[{"content_type":"text/plain; charset=utf-8","content_disposition":"inline","body":"Cats are funny!"},{"content_type":"image/png","content_disposition":"attachment; filename=\"tabby.png\"","body_raw_ref":"artifact--4cce66f8-6eaa-53cb-85d5-3a85fca3a6c5"}]}`,
	`{"type":"x-election-ballot-box","spec_version":"2.1","id":"x-election-ballot-box--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","x_precinct":"12-B"}`,
	`{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8","domain-name--ecb120bf-2694-4902-a737-62b74539a41b"]}`,
}

func TestValidate_SpecExamples(t *testing.T) {
	for i, ex := range specExamples {
		_, problems := Validate([]byte(ex), Options{})
		if _, warned := headerFieldsAsStrings[fmt.Sprintf("specExamples[%d]", i)]; warned && Err(problems) == nil && len(problems) > 0 {
			continue // the spec's examples give header fields as strings; a warning says so
		}
		if len(problems) != 0 {
			t.Errorf("%.60s…: %v", ex, problems)
		}
	}
}

func TestValidate_HeaderFields(t *testing.T) {
	for _, tt := range []struct {
		fields, want string // want: "" none, "warning", "error"
	}{
		{`{"X-Mailer":["Mutt/1.5.23"],"Received":["a","b"]}`, ""},
		{`{"X-Mailer":"Mutt/1.5.23"}`, "warning"},
		{`{"X-Mailer":7}`, "error"},
		{`{"X-Mailer":[7]}`, "error"},
	} {
		obj := `{"type":"email-message","spec_version":"2.1","id":"email-message--cf9b4b7f-14c8-5955-8065-020e0316b559","is_multipart":false,"additional_header_fields":` + tt.fields + `}`
		_, problems := Validate([]byte(obj), Options{})
		got := ""
		switch {
		case Err(problems) != nil:
			got = "error"
		case len(problems) > 0:
			got = "warning"
		}
		if got != tt.want {
			t.Errorf("%s: %s %v, want %q", tt.fields, got, problems, tt.want)
		}
	}
}

// oasisExamples are the OASIS example files, when ../shared is beside
// this checkout.
func oasisExamples() []string {
	files, _ := filepath.Glob("../../shared/reference/stix2-json-schemas/examples/*.json")
	more, _ := filepath.Glob("../../shared/reference/stix2-json-schemas/examples/*/*.json")
	return append(files, more...)
}

// objectsOfFiles reads the objects of bundles (or lone objects), each
// named "file objects[i]".
func objectsOfFiles(t *testing.T, files []string) map[string][]byte {
	t.Helper()
	objects := map[string][]byte{}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		env, err := ParseEnvelope(body)
		if err != nil {
			env.Objects = []json.RawMessage{body} // a lone object
		}
		for i, raw := range env.Objects {
			objects[fmt.Sprintf("%s objects[%d]", filepath.Base(file), i)] = raw
		}
	}
	return objects
}

func TestValidate_OASISExampleBundles(t *testing.T) {
	files := oasisExamples()
	if len(files) == 0 {
		t.Skip("the OASIS examples are not beside this checkout")
	}
	for name, raw := range objectsOfFiles(t, files) {
		if _, problems := Validate(raw, Options{}); Err(problems) != nil {
			t.Errorf("%s: %v", name, problems)
		}
	}
}

func TestValidate_Refusals(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		changes map[string]any
		want    string // in the summary of problems
	}{
		// Common properties.
		{"no spec_version (STIX 2.0)", "indicator", map[string]any{"spec_version": nil}, "spec_version: required"},
		{"spec_version 2.0", "campaign", map[string]any{"spec_version": "2.0"}, `spec_version: must be "2.1"`},
		{"spec_version number", "campaign", map[string]any{"spec_version": 2.1}, `spec_version: must be "2.1", got a number`},
		{"no created", "campaign", map[string]any{"created": nil}, "created: required"},
		{"no modified", "campaign", map[string]any{"modified": nil}, "modified: required"},
		{"created without ms", "campaign", map[string]any{"created": "2020-09-01T12:00:00Z"}, "millisecond precision"},
		{"modified before created", "campaign", map[string]any{"modified": "2020-08-01T12:00:00.000Z"}, "modified: must be later than or equal to created"},
		{"bad timestamp", "campaign", map[string]any{"first_seen": "2020-02-30T00:00:00Z"}, "first_seen:"},
		{"created_by_ref not identity", "campaign", map[string]any{"created_by_ref": "malware--" + uuid4}, "created_by_ref: malware--"},
		{"revoked string", "campaign", map[string]any{"revoked": "yes"}, "revoked: must be true or false"},
		{"empty labels", "campaign", map[string]any{"labels": []any{}}, "labels: must not be an empty list"},
		{"label not string", "campaign", map[string]any{"labels": []any{"a", 3}}, "labels[1]: must be a string"},
		{"confidence above 100", "campaign", map[string]any{"confidence": 101}, "confidence: must be between 0 and 100"},
		{"confidence fraction", "campaign", map[string]any{"confidence": 50.5}, "confidence: must be an integer"},
		{"external reference without source", "campaign", map[string]any{"external_references": []any{map[string]any{"url": "https://x.example"}}}, "external_references[0].source_name: required"},
		{"external reference without detail", "campaign", map[string]any{"external_references": []any{map[string]any{"source_name": "x"}}}, "needs at least one of description, url, external_id"},
		{"bad cve id", "vulnerability", map[string]any{"external_references": []any{map[string]any{"source_name": "cve", "external_id": "CVE-20-1"}}}, "external_id"},
		{"marking ref to other type", "campaign", map[string]any{"object_marking_refs": []any{identity}}, "object_marking_refs[0]:"},
		{"granular marking with both", "campaign", map[string]any{"granular_markings": []any{map[string]any{"selectors": []any{"name"}, "marking_ref": tlpAmber, "lang": "en"}}}, "exactly one of marking_ref and lang"},
		{"granular selector missing", "campaign", map[string]any{"granular_markings": []any{map[string]any{"selectors": []any{"objective"}, "marking_ref": tlpAmber}}}, "selects nothing"},
		{"granular selector bad form", "campaign", map[string]any{"granular_markings": []any{map[string]any{"selectors": []any{"Name"}, "marking_ref": tlpAmber}}}, "is not a selector"},
		{"null property", "campaign", map[string]any{"description": nil, "objective": json.RawMessage(`null`)}, "objective: must not be null"},
		{"reserved property", "course-of-action", map[string]any{"action": "block"}, "action: is a reserved property name"},
		{"bad custom property name", "campaign", map[string]any{"X-Score": 5}, "X-Score: is not a valid custom property name"},
		{"null in custom property", "campaign", map[string]any{"x_extra": []any{1, nil}}, "x_extra[1]: must not be null"},
		{"bad extension key", "campaign", map[string]any{"extensions": map[string]any{"foo": map[string]any{"a": 1}}}, "extension-definition id or a name ending in -ext"},
		{"bad extension type", "campaign", map[string]any{"extensions": map[string]any{"extension-definition--" + uuid4: map[string]any{"extension_type": "new-thing"}}}, "extension_type"},
		{"bundle posted as object", "campaign", map[string]any{"type": "bundle", "id": "bundle--" + uuid4}, "a bundle is a container"},
		{"id of other type", "campaign", map[string]any{"id": "malware--" + uuid4}, "does not begin with the object's type"},

		// Object types.
		{"attack-pattern without name", "attack-pattern", map[string]any{"name": nil}, "name: required"},
		{"campaign seen backwards", "campaign", map[string]any{"last_seen": "2019-01-01T00:00:00Z"}, "last_seen: must be later than or equal to first_seen"},
		{"grouping without context", "grouping", map[string]any{"context": nil}, "context: required"},
		{"grouping with empty refs", "grouping", map[string]any{"object_refs": []any{}}, "object_refs: must not be an empty list"},
		{"identity class not string", "identity", map[string]any{"identity_class": 5}, "identity_class: must be a string"},
		{"indicator without pattern", "indicator", map[string]any{"pattern": nil}, "pattern: required"},
		{"indicator with bad pattern", "indicator", map[string]any{"pattern": "[file:name = 'a'"}, "pattern: invalid STIX pattern at character 16"},
		{"indicator valid_until not after", "indicator", map[string]any{"valid_until": "2020-09-01T00:00:00Z"}, "valid_until: must be later than valid_from"},
		{"indicator kill chain incomplete", "indicator", map[string]any{"kill_chain_phases": []any{map[string]any{"phase_name": "x"}}}, "kill_chain_phases[0].kill_chain_name: required"},
		{"infrastructure without name", "infrastructure", map[string]any{"name": nil}, "name: required"},
		{"intrusion-set goals not list", "intrusion-set", map[string]any{"goals": "win"}, "goals: must be a list"},
		{"location without place", "location", map[string]any{"country": nil, "region": nil}, "needs region, country, or latitude and longitude"},
		{"location latitude alone", "location", map[string]any{"latitude": 10.0}, "latitude and longitude must be given together"},
		{"location latitude out of range", "location", map[string]any{"latitude": 91.0, "longitude": 0.0}, "latitude: must be between -90 and 90"},
		{"location precision alone", "location", map[string]any{"precision": 10.0}, "precision: needs latitude and longitude"},
		{"malware family without name", "malware", map[string]any{"is_family": true}, "name: required when is_family is true"},
		{"malware without is_family", "malware", map[string]any{"is_family": nil}, "is_family: required"},
		{"malware sample ref to indicator", "malware", map[string]any{"sample_refs": []any{"indicator--" + uuid4}}, "sample_refs[0]:"},
		{"malware-analysis without result", "malware-analysis", map[string]any{"result": nil}, "needs at least one of result, analysis_sco_refs"},
		{"note without content", "note", map[string]any{"content": nil}, "content: required"},
		{"observed-data with both", "observed-data", map[string]any{"objects": map[string]any{"0": map[string]any{"type": "file"}}}, "exactly one of object_refs and objects"},
		{"observed-data number 0", "observed-data", map[string]any{"number_observed": 0}, "number_observed: must be between 1"},
		{"observed-data ref to SDO", "observed-data", map[string]any{"object_refs": []any{identity}}, "object_refs[0]:"},
		{"opinion not in enum", "opinion", map[string]any{"opinion": "meh"}, `opinion: "meh" is not one of`},
		{"report without published", "report", map[string]any{"published": nil}, "published: required"},
		{"threat-actor without name", "threat-actor", map[string]any{"name": nil}, "name: required"},
		{"tool version number", "tool", map[string]any{"tool_version": 2}, "tool_version: must be a string"},
		{"vulnerability without name", "vulnerability", map[string]any{"name": nil}, "name: required"},
		{"relationship type uppercase", "relationship", map[string]any{"relationship_type": "Indicates"}, "relationship_type: must be lowercase"},
		{"relationship to a relationship", "relationship", map[string]any{"target_ref": "relationship--" + uuid4}, "target_ref:"},
		{"relationship stop before start", "relationship", map[string]any{"start_time": "2020-02-01T00:00:00Z", "stop_time": "2020-02-01T00:00:00Z"}, "stop_time: must be later than start_time"},
		{"sighting of a marking", "sighting", map[string]any{"sighting_of_ref": tlpAmber}, "sighting_of_ref:"},
		{"sighting where an indicator", "sighting", map[string]any{"where_sighted_refs": []any{"indicator--" + uuid4}}, "where_sighted_refs[0]:"},
		{"sighting count negative", "sighting", map[string]any{"count": -1}, "count: must be between 0"},
		{"marking without definition", "marking-definition", map[string]any{"definition": nil}, "needs definition_type and definition"},
		{"marking with modified", "marking-definition", map[string]any{"modified": modified}, "cannot be versioned"},
		{"statement without statement", "marking-definition", map[string]any{"definition": map[string]any{"text": "x"}}, "definition.statement"},
		{"invented tlp marking", "marking-definition", map[string]any{"definition_type": "tlp", "definition": map[string]any{"tlp": "amber"}}, "only the four TLP 1.0"},
		{"language-content on a language-content", "language-content", map[string]any{"object_ref": "language-content--" + uuid4}, "object_ref:"},
		{"language-content empty contents", "language-content", map[string]any{"contents": map[string]any{}}, "contents: must not be an empty dictionary"},
		{"extension-definition without created_by_ref", "extension-definition", map[string]any{"created_by_ref": nil}, "created_by_ref: required"},
		{"extension-definition bad type", "extension-definition", map[string]any{"extension_types": []any{"new-thing"}}, "extension_types[0]:"},
		{"extension-definition properties without toplevel", "extension-definition", map[string]any{"extension_properties": []any{"x_a"}}, "extension_properties: is allowed only"},
		{"artifact with both", "artifact", map[string]any{"url": "https://x.example/a", "hashes": map[string]any{"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}, "exactly one of payload_bin and url"},
		{"artifact bad base64", "artifact", map[string]any{"payload_bin": "YWJ"}, "payload_bin: must be base64"},
		{"artifact url without hashes", "artifact", map[string]any{"payload_bin": nil, "url": "https://x.example/a"}, "hashes: required with url"},
		{"artifact key without algorithm", "artifact", map[string]any{"decryption_key": "k"}, "encryption_algorithm: required"},
		{"autonomous-system number string", "autonomous-system", map[string]any{"number": "15169"}, "number: must be an integer"},
		{"directory without path", "directory", map[string]any{"path": nil}, "path: required"},
		{"domain resolves to url", "domain-name", map[string]any{"resolves_to_refs": []any{"url--" + uuid4}}, "resolves_to_refs[0]:"},
		{"email-addr without value", "email-addr", map[string]any{"value": nil}, "value: required"},
		{"email multipart with body", "email-message", map[string]any{"is_multipart": true}, "body: must be absent"},
		{"email part without body", "email-message", map[string]any{"is_multipart": true, "body": nil, "body_multipart": []any{map[string]any{"content_type": "text/plain"}}}, "needs body or body_raw_ref"},
		{"file without name or hashes", "file", map[string]any{"name": nil, "hashes": nil}, "needs at least one of hashes, name"},
		{"file bad sha-256", "file", map[string]any{"hashes": map[string]any{"SHA-256": "abc"}}, "hashes.SHA-256"},
		{"file negative size", "file", map[string]any{"size": -1}, "size: must be between 0"},
		{"file archive without contains", "file", map[string]any{"extensions": map[string]any{"archive-ext": map[string]any{"comment": "x"}}}, "extensions.archive-ext.contains_refs: required"},
		{"ipv4 not an address", "ipv4-addr", map[string]any{"value": "198.51.100.256"}, "not an IPv4 address"},
		{"ipv4 given IPv6", "ipv4-addr", map[string]any{"value": "2001:db8::1"}, "not an IPv4 address"},
		{"ipv6 given IPv4", "ipv6-addr", map[string]any{"value": "198.51.100.1"}, "not an IPv6 address"},
		{"mac uppercase", "mac-addr", map[string]any{"value": "00:1A:2B:3C:4D:5E"}, "value: must be a MAC address"},
		{"mutex without name", "mutex", map[string]any{"name": nil}, "name: required"},
		{"network-traffic without ends", "network-traffic", map[string]any{"dst_ref": nil}, "needs at least one of src_ref, dst_ref"},
		{"network-traffic port out of range", "network-traffic", map[string]any{"dst_port": 70000}, "dst_port: must be between 0 and 65535"},
		{"network-traffic active with end", "network-traffic", map[string]any{"is_active": true, "end": "2020-01-01T00:00:00Z"}, "end: must be absent"},
		{"socket ext bad family", "network-traffic", map[string]any{"extensions": map[string]any{"socket-ext": map[string]any{"address_family": "AF_X"}}}, "address_family"},
		{"process with nothing", "process", map[string]any{"pid": nil}, "needs at least one of its properties"},
		{"software without name", "software", map[string]any{"name": nil}, "name: required"},
		{"url not a url", "url", map[string]any{"value": "not a url"}, "not an absolute URL"},
		{"user-account with nothing", "user-account", map[string]any{"account_login": nil, "account_type": nil}, "needs at least one of its properties"},
		{"registry key with nothing", "windows-registry-key", map[string]any{"key": nil}, "needs at least one of key, values"},
		{"registry value bad type", "windows-registry-key", map[string]any{"values": []any{map[string]any{"name": "a", "data_type": "REG_X"}}}, "values[0].data_type"},
		{"x509 with nothing", "x509-certificate", map[string]any{"serial_number": nil}, "needs at least one of its properties"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Validate(build(tt.typ, tt.changes), Options{})
			err := Err(problems)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("problems %v, want an error containing %q", problems, tt.want)
			}
		})
	}
}

func TestValidate_CustomContent(t *testing.T) {
	custom := []byte(`{"type":"x-election-ballot-box","spec_version":"2.1","id":"x-election-ballot-box--` + uuid4 + `","created":"` + created + `","modified":"` + modified + `","x_precinct":"12-B"}`)
	customSCO := []byte(`{"type":"x-vote-record","spec_version":"2.1","id":"x-vote-record--` + uuid4 + `","extensions":{"extension-definition--` + uuid4 + `":{"extension_type":"new-sco"}}}`)
	customProp := build("campaign", map[string]any{"x_acme_score": 7})
	for _, raw := range [][]byte{custom, customSCO, customProp} {
		if _, problems := Validate(raw, Options{}); len(problems) != 0 {
			t.Errorf("custom content refused by default: %v", problems)
		}
		_, problems := Validate(raw, Options{RefuseCustom: true})
		if err := Err(problems); err == nil || !strings.Contains(err.Error(), "custom") {
			t.Errorf("RefuseCustom accepted %s: %v", raw, problems)
		}
	}
	// A custom SDO-like type still needs the SDO common properties.
	noCreated := []byte(`{"type":"x-thing","spec_version":"2.1","id":"x-thing--` + uuid4 + `","modified":"` + modified + `","extensions":{"extension-definition--` + uuid4 + `":{"extension_type":"new-sdo"}}}`)
	if _, problems := Validate(noCreated, Options{}); Err(problems) == nil {
		t.Error("a new-sdo object without created was accepted")
	}
}

func TestValidate_PatternWarningsDoNotRefuse(t *testing.T) {
	raw := build("indicator", map[string]any{"pattern": "[file:name = 'a' AND domain-name:value = 'b']"})
	_, problems := Validate(raw, Options{})
	if Err(problems) != nil || len(problems) != 1 || !problems[0].Warning {
		t.Fatalf("problems = %v, want one warning", problems)
	}
	if !strings.HasPrefix(Summary(problems), "warning: pattern:") {
		t.Errorf("Summary = %q", Summary(problems))
	}
	// Other pattern languages are not parsed.
	_, problems = Validate(build("indicator", map[string]any{"pattern_type": "snort", "pattern": "alert tcp any any -> any any"}), Options{})
	if len(problems) != 0 {
		t.Errorf("snort pattern: %v", problems)
	}
}

func TestValidate_ReportsEveryProblem(t *testing.T) {
	_, problems := Validate(build("indicator", map[string]any{"pattern": nil, "valid_from": "yesterday", "confidence": 200}), Options{})
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"confidence", "pattern", "valid_from"}) {
		t.Fatalf("problems at %v, want confidence, pattern, valid_from", paths)
	}
}

// A problem names where it is, however deep: property names joined by
// dots, list items by index, custom content and extensions included.
func TestValidate_ProblemPaths(t *testing.T) {
	marking := "marking-definition--" + uuid4
	ext := "extension-definition--" + uuid4
	for _, tt := range []struct {
		name, typ string
		changes   map[string]any
		want      []string // every problem's path
	}{
		{"second reference's url", "campaign", map[string]any{"external_references": []any{
			map[string]any{"source_name": "a", "url": "https://a.example"},
			map[string]any{"source_name": "b", "url": "relative/only"},
		}}, []string{"external_references[1].url"}},
		{"a reference's hash", "campaign", map[string]any{"external_references": []any{
			map[string]any{"source_name": "a", "url": "https://a.example", "hashes": map[string]any{"SHA-256": "00"}},
		}}, []string{"external_references[0].hashes.SHA-256"}},
		{"a cve reference's id", "vulnerability", map[string]any{"external_references": []any{
			map[string]any{"source_name": "cve", "external_id": "CVE-1"},
		}}, []string{"external_references[0].external_id"}},
		{"a marking ref among several", "campaign", map[string]any{"object_marking_refs": []any{marking, "identity--" + uuid4}}, []string{"object_marking_refs[1]"}},
		{"a selector", "campaign", map[string]any{"granular_markings": []any{
			map[string]any{"marking_ref": marking, "selectors": []any{"name", "nowhere"}},
		}}, []string{"granular_markings[0].selectors[1]"}},
		{"a null deep in custom content", "campaign", map[string]any{"x_acme": map[string]any{"scores": []any{1, nil}}}, []string{"x_acme.scores[1]"}},
		{"an extension's type", "campaign", map[string]any{"extensions": map[string]any{ext: map[string]any{"extension_type": "sideways"}}}, []string{"extensions." + ext + ".extension_type"}},
		{"a header field", "email-message", map[string]any{"is_multipart": false, "additional_header_fields": map[string]any{"X-A": []any{"ok", 7}}}, []string{"additional_header_fields.X-A[1]"}},
		{"required, at the top", "indicator", map[string]any{"pattern": nil}, []string{"pattern"}},
		{"the object itself", "location", map[string]any{"latitude": 1.5}, []string{""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Validate(build(tt.typ, tt.changes), Options{})
			var paths []string
			for _, p := range problems {
				paths = append(paths, p.Path)
			}
			if !slices.Equal(paths, tt.want) {
				t.Fatalf("problems %v at %q, want at %q", problems, paths, tt.want)
			}
		})
	}
}

// How many problems an object has, how deep they lie and how long the
// values they quote are, the client chooses: the report stays bounded, and
// an object whose unlisted problems include an error is still refused.
func TestValidate_HostileObjectsGetABoundedReport(t *testing.T) {
	deep := strings.Repeat("[", 3000) + strings.TrimSuffix(strings.Repeat("null,", 20000), ",") + strings.Repeat("]", 3000)
	nulls := bytes.Replace(build("campaign", nil), []byte(`"name":`), []byte(`"x_deep":`+deep+`,"name":`), 1)
	long := build("campaign", map[string]any{"external_references": []any{map[string]any{"source_name": "a", "url": strings.Repeat("not a url ", 100000)}}})
	fields := map[string]any{}
	for i := range 30 {
		fields[fmt.Sprintf("X-%02d", i)] = "one value" // a warning each
	}
	warningsFirst := build("email-message", map[string]any{"is_multipart": "no", "additional_header_fields": fields})
	for _, tt := range []struct {
		name     string
		raw      []byte
		problems int
	}{{"20,000 nulls 3,000 lists deep", nulls, maxProblems + 1}, {"a 1 MB url", long, 1}, {"30 warnings, then an error", warningsFirst, maxProblems + 1}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, problems := Validate(tt.raw, Options{})
		runtime.ReadMemStats(&after)
		if len(problems) != tt.problems || Err(problems) == nil {
			t.Fatalf("%s: %d problems, refused: %t; want %d and a refusal", tt.name, len(problems), Err(problems) != nil, tt.problems)
		}
		for _, p := range problems {
			if len(p.Path) > maxPath || len(p.Message) > maxMessage {
				t.Errorf("%s: a problem with a %d-byte path and a %d-byte message", tt.name, len(p.Path), len(p.Message))
			}
		}
		if mib := (after.TotalAlloc - before.TotalAlloc) >> 20; mib > 64 {
			t.Errorf("%s: validating a %d KB object allocated %d MiB", tt.name, len(tt.raw)>>10, mib)
		}
	}
}

func TestValidate_NotAnObject(t *testing.T) {
	for _, raw := range []string{`[]`, `"x"`, `null`, `{"type":"indicator","type":"malware"}`, "{\"name\":\"\xff\"}"} {
		if _, problems := Validate([]byte(raw), Options{}); Err(problems) == nil {
			t.Errorf("Validate(%q) accepted", raw)
		}
	}
}

// A marking definition with a TLP marking's id must define that level:
// else a member could post a "TLP:RED" that reads as CLEAR.
func TestValidate_TLPIdsCarryOnlyTheirDefinitions(t *testing.T) {
	for _, tt := range []struct {
		name, obj string
		ok        bool
	}{
		{"TLP 1.0 RED as published", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}`, true},
		{"TLP 2.0 RED as published", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}}}`, true},
		{"TLP 1.0 RED's id on a statement", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed","created":"2017-01-20T00:00:00.000Z","definition_type":"statement","definition":{"statement":"TLP:CLEAR, share freely"}}`, false},
		{"TLP 2.0 RED's id, upper case, defining clear", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}}}`, false},
	} {
		_, problems := Validate([]byte(tt.obj), Options{})
		if err := Err(problems); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
