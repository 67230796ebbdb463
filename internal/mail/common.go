package mail

import "strings"

// CommonHeaders are the headers SES summarises in events (mail.commonHeaders,
// SES-BEHAVIOR §8.2). Addresses are in Address.Display form, the subject
// decoded; Date and MessageID are the values as written.
type CommonHeaders struct {
	From, To, Cc, Bcc, Sender, ReplyTo []string
	ReturnPath                         string
	Date, MessageID, Subject           string
}

// ExtractCommonHeaders summarises a header section. It never fails: an
// address header that does not parse is reported as written.
func ExtractCommonHeaders(h []Header) CommonHeaders {
	var c CommonHeaders
	for _, f := range h {
		switch strings.ToLower(f.Name) {
		case "from":
			c.From = appendAddresses(c.From, f.Value)
		case "to":
			c.To = appendAddresses(c.To, f.Value)
		case "cc":
			c.Cc = appendAddresses(c.Cc, f.Value)
		case "bcc":
			c.Bcc = appendAddresses(c.Bcc, f.Value)
		case "sender":
			c.Sender = appendAddresses(c.Sender, f.Value)
		case "reply-to":
			c.ReplyTo = appendAddresses(c.ReplyTo, f.Value)
		case "return-path":
			if c.ReturnPath == "" {
				c.ReturnPath = f.Value
				if list, err := ParseAddressList(f.Value); err == nil && len(list) > 0 {
					c.ReturnPath = list[0].Addr
				}
			}
		case "date":
			c.Date = firstValue(c.Date, f.Value)
		case "message-id":
			c.MessageID = firstValue(c.MessageID, f.Value)
		case "subject":
			if c.Subject == "" {
				c.Subject = decodeText(f.Value)
			}
		}
	}
	return c
}

func appendAddresses(dst []string, v string) []string {
	list, err := ParseAddressList(v)
	if err != nil {
		return append(dst, v)
	}
	for _, a := range list {
		dst = append(dst, a.Display())
	}
	return dst
}

// CommonHeaders summarises the message as submitted (SES keeps the
// customer's own Message-ID and Date there), falling back to the values
// PrepareRaw wrote when the message had none.
func (p *Prepared) CommonHeaders() CommonHeaders {
	c := ExtractCommonHeaders(p.Header)
	c.MessageID = firstValue(c.MessageID, p.messageID)
	c.Date = firstValue(c.Date, p.date)
	return c
}
