// Package awsproto holds what the two AWS wire codecs (awsquery for SES v1,
// restjson for SES v2) share: the operation table entry, the `aws` struct tag
// the model generator (tools/modelgen) writes on every wire shape, the model's
// input constraints and their validation in AWS's own words, and the scalar
// text forms (timestamps, blobs, numbers) of the AWS protocols.
//
// Everything here is driven by the generated shapes; nothing is typed by hand
// per operation.
package awsproto

// Operation is one operation of an AWS service model (the "operations" object
// of a *.service.json file), as the generator emits it in each wire package's
// operation table.
type Operation struct {
	// Name is the operation name, e.g. "SendEmail".
	Name string
	// Method and RequestURI are the model's http binding: "POST" and "/" for
	// every Query operation; e.g. "GET" and "/v2/email/identities/{EmailIdentity}"
	// for REST-JSON.
	Method     string
	RequestURI string
	// Input and Output name the model's input and output shapes; each is ""
	// when the model has none (the wire package then generates an empty
	// <Op>Input / <Op>Output type so every Service method has the same form).
	Input  string
	Output string
	// ResultWrapper is the Query protocol's result element, e.g.
	// "SendEmailResult" (model output.resultWrapper); "" for REST-JSON.
	ResultWrapper string
	// Errors names the operation's modelled error shapes, in model order.
	Errors []string
}

// HasOutput reports whether the model defines an output shape. Query renders
// operations without one as <OpResponse> holding only <ResponseMetadata>.
func (op Operation) HasOutput() bool { return op.Output != "" }
