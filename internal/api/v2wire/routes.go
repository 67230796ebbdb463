package v2wire

import "github.com/sesamehq/sesame/internal/api/awsproto"

// RouteAliases returns extra table entries for the operations that newer
// SDKs send on a route other than the model's. spec/models holds the
// botocore 1.43.11 model; aws-sdk-go-v2 service/sesv2 v1.79.7 (schemas.go)
// already sends
//
//	ListEmailIdentities   POST /v2/email/list-identities      {"NextToken":…,"PageSize":…}
//	ListConfigurationSets POST /v2/email/list-configuration-sets  (same body)
//
// where the model has GET /v2/email/identities and GET
// /v2/email/configuration-sets with NextToken and PageSize in the query
// string. A server routes both forms; restjson.Decode accepts query-string
// members from the JSON body for this reason. Drop an entry once the model
// catches up (the generated table then has the new route itself).
func RouteAliases() []awsproto.Operation {
	var out []awsproto.Operation
	for _, a := range []struct{ name, method, uri string }{
		{"ListEmailIdentities", "POST", "/v2/email/list-identities"},
		{"ListConfigurationSets", "POST", "/v2/email/list-configuration-sets"},
	} {
		op, ok := LookupOperation(a.name)
		if !ok || (op.Method == a.method && op.RequestURI == a.uri) {
			continue
		}
		op.Method, op.RequestURI = a.method, a.uri
		out = append(out, op)
	}
	return out
}
