package sesreq

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary answers to the response reader: it must classify
// every one without panicking, and call a 200 a success only with an id.
func FuzzRead(f *testing.F) {
	f.Add(200, "", `{"MessageId":"abc"}`)
	f.Add(200, "", `<MessageId>abc</MessageId>`)
	f.Add(400, "Throttling:http://x", `{}`)
	f.Add(400, "", `<Error><Code>MessageRejected</Code></Error>`)
	f.Add(500, "", `{"__type":"a#B"}`)
	f.Add(200, "", `"MessageId"`)
	f.Fuzz(func(t *testing.T, status int, errType, body string) {
		h := http.Header{}
		if errType != "" {
			h.Set("X-Amzn-Errortype", errType)
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
		var buf bytes.Buffer
		out, err := Read(resp, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if out.OK && (status != 200 || out.MessageID == "") {
			t.Fatalf("success from status %d with id %q", status, out.MessageID)
		}
		if !out.OK && out.Code == "" {
			t.Fatalf("failure without a code: status %d body %q", status, body)
		}
	})
}
