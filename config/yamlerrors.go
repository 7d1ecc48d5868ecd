package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlError turns yaml.v3's errors into one line an operator can act on:
// an unknown key by its path, with the key it probably meant, and a value
// of the wrong type by what was expected, not by a Go type name.
func yamlError(data []byte, err error) error {
	if err.Error() == "EOF" {
		return errors.New("the file is empty")
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 {
		if unknown := unknownKey(doc.Content[0], reflect.TypeOf(Config{}), ""); unknown != nil {
			return unknown
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			msgs = append(msgs, goTypes.ReplaceAllStringFunc(e, func(t string) string { return friendlyTypes[t] }))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

var (
	friendlyTypes = map[string]string{
		"into int64": "into a number", "into int": "into a number", "into bool": "into true or false",
		"into time.Duration": "into a duration such as 30s or 24h", "into []string": "into a list",
		"into string": "into a string",
	}
	goTypes = regexp.MustCompile(`into (int64|int|bool|time\.Duration|\[\]string|string)\b`)
)

// unknownKey finds the first key of node that t (a struct, or what holds
// one) does not have, and names it by its path and line.
func unknownKey(node *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case node.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range node.Content {
			if err := unknownKey(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{}):
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i]
			at := strings.TrimPrefix(path+"."+key.Value, ".")
			ft, ok := fields[key.Value]
			if !ok {
				hint := ""
				if near := nearest(key.Value, names); near != "" {
					hint = ": did you mean " + near + "?"
				}
				return fmt.Errorf("%s (line %d): unknown key%s", at, key.Line, hint)
			}
			if err := unknownKey(node.Content[i+1], ft, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// nearest is the name closest to s, if it is close enough to be a typo.
func nearest(s string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(s, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
