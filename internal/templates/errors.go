package templates

import "fmt"

// ErrorKind classifies a template failure. The kinds are SES's own
// distinctions (v1 InvalidTemplate, InvalidRenderingParameter,
// MissingRenderingAttribute); each API adapter maps them to its wire errors.
// Missing or duplicate templates and count limits are fault errors
// (TemplateNotFound, AlreadyExists, LimitExceeded), like other resources.
type ErrorKind int

const (
	// InvalidTemplate: content SES refuses to store or to send inline — too
	// big, no subject, no body, not UTF-8, not Handlebars.
	InvalidTemplate ErrorKind = iota + 1
	// InvalidData: the TemplateData is not a JSON object SES can render with.
	InvalidData
	// MissingAttribute: the template references an attribute the data lacks.
	MissingAttribute
	// RenderFailed: any other failure to render — a helper or partial that
	// does not exist, a helper misused, a rendering past the size limits.
	RenderFailed
)

// Error is a template failure: its kind, the template it concerns ("" for
// inline content) and SES's message, which a Rendering Failure event carries
// as failure.errorMessage.
type Error struct {
	Kind     ErrorKind
	Template string
	Message  string
}

func (e *Error) Error() string { return e.Message }

func invalidTemplate(name, format string, args ...any) *Error {
	return &Error{Kind: InvalidTemplate, Template: name, Message: fmt.Sprintf(format, args...)}
}

func invalidData(format string, args ...any) *Error {
	return &Error{Kind: InvalidData, Message: fmt.Sprintf(format, args...)}
}

// missingAttribute is SES's rendering error for an absent attribute, with
// its exact text (SES-BEHAVIOR §8.3, §12).
func missingAttribute(name string) *Error {
	return &Error{Kind: MissingAttribute, Message: fmt.Sprintf("Attribute '%s' is not present in the rendering data.", name)}
}

func renderFailed(format string, args ...any) *Error {
	return &Error{Kind: RenderFailed, Message: fmt.Sprintf(format, args...)}
}
