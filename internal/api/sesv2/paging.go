package sesv2

import (
	"encoding/base64"
	"fmt"
	"unicode/utf8"
)

// List operations page in name order. The domain's cursor is the last name of
// a page; on the wire it travels as NextToken, base64url-encoded so that the
// caller treats it as opaque and it is safe in a query string.

func encodeToken(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursor))
}

// decodeToken returns the cursor a NextToken carries ("" for none). A token
// this adapter did not make is a BadRequestException, the error the model
// lists for the List operations.
func decodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 || !utf8.Valid(b) {
		return "", badRequest("Invalid NextToken.")
	}
	return string(b), nil
}

// pageSize reads a PageSize parameter within the model's documented bounds
// [lo, hi] (an absent one is def).
func pageSize(p *int64, lo, hi, def int) (int, error) {
	if p == nil {
		return def, nil
	}
	if *p < int64(lo) || *p > int64(hi) {
		return 0, badRequest(fmt.Sprintf("PageSize must be between %d and %d.", lo, hi))
	}
	if *p == 0 {
		return def, nil
	}
	return int(*p), nil
}
