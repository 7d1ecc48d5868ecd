package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// cursor is the state a `next` token carries: the query it continues and
// where the previous page ended. It is stateless (nothing is kept on the
// server) and MACed, so it survives restarts and cannot be forged.
type cursor struct {
	Scope   string            `json:"s"` // endpoint and resource it was issued for
	Filters map[string]string `json:"f,omitempty"`
	Limit   int               `json:"l"`
	After   int64             `json:"a"` // date_added (µs) of the last entry served
}

const macSize = 16

// cursorCodec seals and opens cursors with a key kept across restarts.
type cursorCodec struct{ key []byte }

func (cc cursorCodec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, cc.key)
	m.Write(payload)
	return m.Sum(nil)[:macSize]
}

func (cc cursorCodec) seal(cur cursor) string {
	payload, _ := json.Marshal(cur) // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(append(payload, cc.mac(payload)...))
}

var errBadCursor = errors.New("next is not a token this hub issued")

func (cc cursorCodec) open(token string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) <= macSize {
		return cursor{}, errBadCursor
	}
	payload, sum := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	if !hmac.Equal(sum, cc.mac(payload)) {
		return cursor{}, errBadCursor
	}
	var cur cursor
	if err := json.Unmarshal(payload, &cur); err != nil {
		return cursor{}, errBadCursor
	}
	return cur, nil
}
