package snsapi

import (
	"encoding/base64"
	"strings"
)

// NextToken is opaque to clients: base64url of a kind prefix and the last
// key of the page. The kind keeps a ListTopics token from being replayed on
// ListSubscriptions; ordering is by topic name or subscription ARN, stable
// under concurrent writes.
const (
	tokenTopics        = "t:"
	tokenSubscriptions = "s:"
)

func encodeToken(kind, last string) string {
	if last == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

// decodeToken returns the key a NextToken continues after; "" starts.
func decodeToken(kind, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", invalidParameter("NextToken")
	}
	last, ok := strings.CutPrefix(string(b), kind)
	if !ok || last == "" {
		return "", invalidParameter("NextToken")
	}
	return last, nil
}
