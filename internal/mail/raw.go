package mail

import (
	"bytes"
	"strings"
	"time"
)

// RawOptions are what SES writes into a raw message (SES-BEHAVIOR §4.3).
type RawOptions struct {
	// MessageID is the Message-ID header value (see MessageIDHeader). Empty
	// leaves the message's own Message-ID as it is.
	MessageID string
	// Date is the acceptance time, written in UTC. Zero leaves the
	// message's own Date as it is.
	Date time.Time
}

// Tag is a message tag from X-SES-MESSAGE-TAGS.
type Tag struct {
	Name, Value string
}

// Prepared is a raw message checked and rewritten for delivery.
type Prepared struct {
	// Header is the header section as submitted, in order, including the
	// fields Data no longer has (mail.headers in events, §8.2).
	Header []Header

	// Addresses from the headers, display names decoded.
	From, Sender, ReplyTo, ReturnPath, To, Cc, Bcc []Address
	// Subject is the decoded Subject.
	Subject string

	// The X-SES-* control headers (§4.3), stripped from Data. The ARNs and
	// SESListManagement are the values as written; see
	// ParseListManagementOptions.
	SESConfigurationSet string
	SESMessageTags      []Tag
	SESSourceArn        string
	SESFromArn          string
	SESReturnPathArn    string
	SESListManagement   string

	// Data is the message to deliver: Message-ID and Date set from
	// RawOptions, MIME-Version added when missing, Bcc, Return-Path and the
	// X-SES-* headers removed, CRLF line endings. The body is byte-for-byte
	// the one submitted, except that bare CR or LF become CRLF.
	Data []byte

	// What was written, for CommonHeaders when the message had none.
	messageID, date string
}

// PrepareRaw checks a raw message as SES does for SendRawEmail, v2 Raw
// content and SMTP DATA (SES-BEHAVIOR §4.2) and prepares it for delivery
// (§4.3). It refuses, with a *ContentError: an empty message, a malformed
// header section, a line over 1000 octets with its CRLF, a
// single-occurrence header given twice ("Duplicate header 'Subject'."),
// and an attachment with a blocked extension in any MIME part
// ("Illegal filename 'a.exe'."). An address header SES cannot parse gives
// an *AddressError. Header fields are `Name: value` lines, folded or not,
// ending in CRLF or bare LF; the empty line before the body may be missing
// (a message of headers only).
func PrepareRaw(raw []byte, o RawOptions) (*Prepared, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, contentErr("Message is empty.")
	}
	if strings.ContainsAny(o.MessageID, "\r\n") {
		return nil, contentErr("Message-ID must not contain line breaks.")
	}
	msg := normalizeCRLF(raw)
	if hasLongLine(msg) {
		return nil, contentErr("Message has a line longer than 1000 characters.")
	}
	fields, body, _, err := splitMessage(msg)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(fields)) // the names in lower case
	for i, f := range fields {
		keys[i] = strings.ToLower(f.name)
	}
	p := &Prepared{Header: headersOf(fields)}
	if err := p.readFields(fields, keys); err != nil {
		return nil, err
	}
	if err := scanFilenames(fields, body); err != nil {
		return nil, err
	}
	p.Data = p.rewrite(fields, keys, body, o)
	return p, nil
}

// readFields checks for duplicate single-occurrence headers and reads the
// headers Prepared exposes. keys are the fields' names in lower case.
func (p *Prepared) readFields(fields []field, keys []string) error {
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		if canon, single := singleOccurrence(keys[i]); single {
			if seen[canon] {
				return contentErr("Duplicate header '" + canon + "'.")
			}
			seen[canon] = true
		}
		var list *[]Address
		switch keys[i] {
		case "from":
			list = &p.From
		case "sender":
			list = &p.Sender
		case "reply-to":
			list = &p.ReplyTo
		case "return-path":
			list = &p.ReturnPath
		case "to":
			list = &p.To
		case "cc":
			list = &p.Cc
		case "bcc":
			list = &p.Bcc
		case "subject":
			p.Subject = decodeText(f.value)
		case "x-ses-configuration-set":
			p.SESConfigurationSet = firstValue(p.SESConfigurationSet, f.value)
		case "x-ses-message-tags":
			tags, err := parseMessageTags(f.value)
			if err != nil {
				return err
			}
			p.SESMessageTags = append(p.SESMessageTags, tags...)
		case "x-ses-source-arn":
			p.SESSourceArn = firstValue(p.SESSourceArn, f.value)
		case "x-ses-from-arn":
			p.SESFromArn = firstValue(p.SESFromArn, f.value)
		case "x-ses-return-path-arn":
			p.SESReturnPathArn = firstValue(p.SESReturnPathArn, f.value)
		case "x-ses-list-management-options":
			p.SESListManagement = firstValue(p.SESListManagement, f.value)
		}
		if list == nil {
			continue
		}
		// "<>" is the null reverse path (RFC 5321 §4.1.2), not an address.
		if f.value == "<>" {
			continue
		}
		addrs, err := ParseAddressList(f.value)
		if err != nil {
			return err
		}
		*list = append(*list, addrs...)
	}
	return nil
}

func firstValue(have, v string) string {
	if have != "" {
		return have
	}
	return v
}

// rewrite assembles Data: the fields in their order with Message-ID and Date
// replaced in place (added at the end when missing), the stripped headers
// left out, then the body untouched. keys are the fields' names in lower
// case.
func (p *Prepared) rewrite(fields []field, keys []string, body []byte, o RawOptions) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + 64*len(fields) + 128)
	var date string
	if !o.Date.IsZero() {
		date = formatDate(o.Date)
	}
	var haveID, haveDate, haveMIME bool
	for i, f := range fields {
		switch keys[i] {
		case "message-id":
			haveID = true
			if o.MessageID != "" {
				writeField(&b, "Message-ID", o.MessageID, false)
				continue
			}
			p.messageID = f.value
		case "date":
			haveDate = true
			if date != "" {
				writeField(&b, "Date", date, false)
				continue
			}
			p.date = f.value
		case "mime-version":
			haveMIME = true
		}
		if strippedHeader(keys[i]) {
			continue
		}
		b.Write(f.raw)
		if !bytes.HasSuffix(f.raw, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	if o.MessageID != "" {
		p.messageID = o.MessageID
		if !haveID {
			writeField(&b, "Message-ID", o.MessageID, false)
		}
	}
	if date != "" {
		p.date = date
		if !haveDate {
			writeField(&b, "Date", date, false)
		}
	}
	if !haveMIME {
		writeField(&b, "MIME-Version", "1.0", false)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// parseMessageTags parses X-SES-MESSAGE-TAGS: "name1=value1, name2=value2"
// (SES-BEHAVIOR §4.3). Names and values are checked by the caller against
// the tag rules of §4.2.
func parseMessageTags(v string) ([]Tag, error) {
	var tags []Tag
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, contentErr("Invalid X-SES-MESSAGE-TAGS header: expected 'name1=value1, name2=value2'.")
		}
		tags = append(tags, Tag{Name: name, Value: strings.TrimSpace(value)})
	}
	return tags, nil
}

// ListManagementOptions are the v2 ListManagementOptions given in the
// X-SES-LIST-MANAGEMENT-OPTIONS header.
type ListManagementOptions struct {
	ContactListName, TopicName string
}

// ParseListManagementOptions parses "<contactListName>; topic=<topicName>"
// (SES-BEHAVIOR §4.3); the topic is optional.
func ParseListManagementOptions(v string) (ListManagementOptions, error) {
	parts := strings.Split(v, ";")
	o := ListManagementOptions{ContactListName: strings.TrimSpace(parts[0])}
	if o.ContactListName == "" {
		return ListManagementOptions{}, contentErr("Invalid X-SES-LIST-MANAGEMENT-OPTIONS header: missing contact list name.")
	}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if strings.TrimSpace(p) == "" {
			continue
		}
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "topic") || o.TopicName != "" {
			return ListManagementOptions{}, contentErr("Invalid X-SES-LIST-MANAGEMENT-OPTIONS header: expected '<contactListName>; topic=<topicName>'.")
		}
		o.TopicName = strings.TrimSpace(val)
	}
	return o, nil
}
