package restjson

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/sesamehq/sesame/internal/api/apierr"
	"github.com/sesamehq/sesame/internal/api/v2wire"
)

// FuzzDecode routes and decodes arbitrary requests: neither Match nor Decode
// may panic, and every decoding failure must be a 400 API error.
func FuzzDecode(f *testing.F) {
	router, err := NewRouter(append(v2wire.Operations(), v2wire.RouteAliases()...))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("POST", "/v2/email/outbound-emails", "", []byte(`{"Content":{"Simple":{"Subject":{"Data":"s"},"Body":{"Text":{"Data":"t"}}}},"Destination":{"ToAddresses":["a@example.com"]}}`))
	f.Add("POST", "/v2/email/outbound-emails", "", []byte(`{"Content":{"Raw":{"Data":"aGk="}}}`))
	f.Add("GET", "/v2/email/suppression/addresses", "Reason=BOUNCE&Reason=COMPLAINT&StartDate=2024-01-02T03:04:05Z&PageSize=10", []byte(nil))
	f.Add("GET", "/v2/email/identities/a%40b.com", "", []byte(nil))
	f.Add("POST", "/v2/email/metrics/batch", "", []byte(`{"Queries":[{"Id":"q","Namespace":"VDM","Metric":"SEND","StartDate":1.5e9,"EndDate":"2024-01-01T00:00:00Z","Dimensions":{"ISP":"x"}}]}`))
	f.Add("POST", "/v2/email/list-identities", "", []byte(`{"PageSize":1e400}`))
	f.Add("PUT", "/v2/email/dedicated-ips/1.2.3.4/warmup", "", []byte(`{"WarmupPercentage":-9223372036854775809}`))
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		op, params, ok := router.Match(method, path)
		router.Methods(path)
		if !ok {
			return
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		in, _ := v2wire.NewInput(op.Name)
		if err := Decode(r, body, op, params, in); err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "BadRequestException" {
				t.Fatalf("error %v is not a BadRequestException", err)
			}
		}
	})
}
