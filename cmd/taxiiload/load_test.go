package main

import "testing"

// A page is counted without decoding its objects, but still read as JSON.
func TestReadPage(t *testing.T) {
	p, err := readPage([]byte(`{"more":true,"next":"abc","objects":[{},{"a":[1,{"b":"]"}]}]}`))
	if err != nil || p != (page{objects: 2, more: true, next: "abc"}) {
		t.Fatalf("readPage = %+v, %v", p, err)
	}
	if p, err := readPage([]byte(`{"objects":[]}`)); err != nil || p != (page{}) {
		t.Fatalf("an empty page = %+v, %v", p, err)
	}
	for _, bad := range []string{`{"objects":[{]}`, `{"objects":{}}`, `[]`, `{"more":true} x`, `{"a":1,"a":2}`} {
		if _, err := readPage([]byte(bad)); err == nil {
			t.Errorf("readPage(%s) took it", bad)
		}
	}
}
