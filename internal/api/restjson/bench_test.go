package restjson_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesamehq/sesame/internal/api/restjson"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// BenchmarkDecodeSendEmail decodes the SendEmail request of the accept
// benchmarks (bench/): simple content, one recipient, about 1 KB of text.
func BenchmarkDecodeSendEmail(b *testing.B) {
	line := `Sesame benchmark message: the quick brown fox jumps over the lazy dog.\r\n`
	body := []byte(`{"FromEmailAddress":"sender@bench.sesame.test","Destination":{"ToAddresses":["rcpt@sink.bench.test"]},` +
		`"Content":{"Simple":{"Subject":{"Data":"Sesame benchmark"},"Body":{"Text":{"Data":"` + strings.Repeat(line, 14) + `"}}}}}`)
	router, err := restjson.NewRouter(v2wire.Operations())
	if err != nil {
		b.Fatal(err)
	}
	op, params, ok := router.Match("POST", "/v2/email/outbound-emails")
	if !ok {
		b.Fatal("no route for SendEmail")
	}
	r := httptest.NewRequest("POST", "/v2/email/outbound-emails", nil)
	b.ReportAllocs()
	for b.Loop() {
		in, _ := v2wire.NewInput(op.Name)
		if err := restjson.Decode(r, body, op, params, in); err != nil {
			b.Fatal(err)
		}
	}
}
