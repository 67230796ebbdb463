// Package v1wire holds the SES v1 (API version 2010-12-01, AWS Query protocol)
// wire shapes, operation table, Service interface, dispatcher and error
// constructors, all generated from spec/models/ses-2010-12-01.service.json by
// tools/modelgen. Nothing in zz_generated.go is edited by hand; the awsquery
// codec reads the `aws` struct tags (format: awsproto.TagKey).
//
// Error constructors are named "Err" + the error shape name without its
// "Exception" suffix, and carry the model's error.code as the wire code
// (e.g. AlreadyExistsException → ErrAlreadyExists, code "AlreadyExists");
// the full list heads zz_generated.go.
package v1wire

//go:generate go run ../../../tools/modelgen -model ../../../spec/models/ses-2010-12-01.service.json -pkg v1wire -out zz_generated.go
