package awsquery

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// xmlWriter writes the indented documents AWS Query services send. Element
// names come from the model (generated tags); text is always escaped.
type xmlWriter struct {
	b     bytes.Buffer
	depth int
}

func (x *xmlWriter) indent() {
	if x.b.Len() > 0 {
		x.b.WriteByte('\n')
	}
	x.b.WriteString(strings.Repeat("  ", x.depth))
}

// openNS opens the root element, in the SES namespace.
func (x *xmlWriter) openNS(name string) {
	x.indent()
	x.b.WriteString("<" + name + ` xmlns="` + Namespace + `">`)
	x.depth++
}

func (x *xmlWriter) open(name string) {
	x.indent()
	x.b.WriteString("<" + name + ">")
	x.depth++
}

func (x *xmlWriter) close(name string) {
	x.depth--
	x.indent()
	x.b.WriteString("</" + name + ">")
}

func (x *xmlWriter) empty(name string) {
	x.indent()
	x.b.WriteString("<" + name + "/>")
}

func (x *xmlWriter) leaf(name, text string) {
	x.indent()
	x.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&x.b, []byte(text)) // a bytes.Buffer does not fail
	x.b.WriteString("</" + name + ">")
}

// mark and collapse let a container that turned out empty become <name/>.
func (x *xmlWriter) mark() int { return x.b.Len() }

func (x *xmlWriter) collapse(mark int, name string) {
	x.b.Truncate(mark)
	x.depth--
	x.empty(name)
}

func (x *xmlWriter) bytes() []byte {
	x.b.WriteByte('\n')
	return x.b.Bytes()
}
