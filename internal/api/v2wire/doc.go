// Package v2wire holds the SES v2 (API version 2019-09-27, REST-JSON
// protocol) wire shapes, operation table (method and request URI per
// operation), Service interface, dispatcher and error constructors, all
// generated from spec/models/sesv2-2019-09-27.service.json by tools/modelgen.
// Nothing in zz_generated.go is edited by hand; the restjson codec reads the
// `aws` struct tags (format: awsproto.TagKey).
//
// Error constructors are named "Err" + the error shape name without its
// "Exception" suffix; the wire code is the shape name, sent as
// x-amzn-ErrorType (e.g. NotFoundException → ErrNotFound, HTTP 404); the full
// list heads zz_generated.go.
package v2wire

//go:generate go run ../../../tools/modelgen -model ../../../spec/models/sesv2-2019-09-27.service.json -pkg v2wire -out zz_generated.go
