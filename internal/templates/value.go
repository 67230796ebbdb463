package templates

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The value rules are Handlebars.js's (runtime.js, utils.js), on the JSON
// values of Data.

// truthy is the test of #if and #unless: false, null, absent, "", 0 and the
// empty array are false; every object, even {}, is true. includeZero makes
// 0 true.
func truthy(v any, includeZero bool) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		return includeZero || !isZero(t)
	case []any:
		return len(t) > 0
	}
	return true
}

// empty is Handlebars' isEmpty, the test of #with: like !truthy except that
// 0 is not empty.
func empty(v any) bool {
	if _, ok := v.(json.Number); ok {
		return false
	}
	return !truthy(v, false)
}

func isZero(n json.Number) bool {
	f, err := strconv.ParseFloat(string(n), 64)
	return err == nil && f == 0
}

// text is a value as a template prints it. SES does not HTML-escape
// (SES-BEHAVIOR §12), so this is the value's string form and nothing more:
// numbers as written in the data, arrays joined with commas as JavaScript
// prints them, objects as "[object Object]".
func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		if t {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = text(e)
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// member returns v's member name: an object's key, an array's element by
// index or its length. ok is false when there is no such member — the
// "not present" of SES's rendering error.
func member(v any, name string) (any, bool) {
	switch t := v.(type) {
	case *object:
		return t.get(name)
	case []any:
		if name == "length" {
			return json.Number(strconv.Itoa(len(t))), true
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(t) && name == strconv.Itoa(i) {
			return t[i], true
		}
	}
	return nil, false
}
