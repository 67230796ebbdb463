package feedback

import "testing"

func TestClassify(t *testing.T) {
	for _, c := range []struct{ status, typ, sub string }{
		{"5.1.1", Permanent, SubNoEmail},
		{"5.1.10", Permanent, SubNoEmail},
		{"5.1.2", Permanent, SubGeneral},
		{"5.0.0", Permanent, SubGeneral},
		{"5.4.1", Permanent, SubGeneral},
		{"5.2.2", Transient, SubMailboxFull},
		{"4.2.2", Transient, SubMailboxFull},
		{"5.3.4", Transient, SubMessageTooLarge},
		{"5.2.3", Transient, SubMessageTooLarge},
		{"5.6.0", Transient, SubContentRejected},
		{"5.7.1", Transient, SubContentRejected},
		{"5.7.26", Transient, SubGeneral},
		{"4.4.7", Transient, SubGeneral},
		{"2.0.0", Undetermined, SubUndetermined},
		{"", Undetermined, SubUndetermined},
		{"5.1", Undetermined, SubUndetermined},
		{"5.x.1", Undetermined, SubUndetermined},
		{"9.1.1", Undetermined, SubUndetermined},
	} {
		if typ, sub := Classify(c.status); typ != c.typ || sub != c.sub {
			t.Errorf("Classify(%q) = %s/%s, want %s/%s", c.status, typ, sub, c.typ, c.sub)
		}
	}
}

func TestRecipientClassifyRefinesGenericStatus(t *testing.T) {
	for _, c := range []struct {
		status, diag string
		typ, sub     string
	}{
		{"5.0.0", "smtp; 550 5.1.1 no such user", Permanent, SubNoEmail},
		{"5.0.0", "smtp; 552-5.2.2 over quota", Transient, SubMailboxFull},
		{"", "smtp; 550 5.1.1 no such user", Permanent, SubNoEmail},
		{"5.0.0", "smtp; 452 4.2.2 over quota", Transient, SubMailboxFull}, // another class: the DSN's class stands, the words tell the cause
		{"5.0.0", "smtp; 550 Mailbox unavailable: user unknown", Permanent, SubNoEmail},
		{"", "smtp; 550 user unknown", Undetermined, SubUndetermined}, // no class at all
		{"5.0.0", "smtp; 550 4.2.2 inconsistent", Permanent, SubGeneral},
		{"5.0.0", "x-unix; 5.1.1 not an smtp reply", Permanent, SubGeneral},
		{"5.1.1", "smtp; 552 5.2.2 specific status wins", Permanent, SubNoEmail},
		{"", "", Undetermined, SubUndetermined},
	} {
		r := Recipient{Status: c.status, DiagnosticCode: parseTyped(c.diag)}
		if typ, sub := r.Classify(); typ != c.typ || sub != c.sub {
			t.Errorf("status %q diag %q → %s/%s, want %s/%s", c.status, c.diag, typ, sub, c.typ, c.sub)
		}
	}
}

func TestClassifyReply(t *testing.T) {
	for _, c := range []struct {
		code           int
		enhanced, text string
		typ, sub       string
	}{
		{550, "5.1.1", "550 5.1.1 <a@example.com>: Recipient address rejected", Permanent, SubNoEmail},
		{556, "5.1.10", "null MX", Permanent, SubNoEmail},
		{552, "5.2.2", "552 5.2.2 Mailbox full", Transient, SubMailboxFull},
		{552, "5.3.4", "552 5.3.4 Message size exceeds fixed limit", Transient, SubMessageTooLarge},
		{550, "5.7.1", "550 5.7.1 Service unavailable; client host blocked", Transient, SubContentRejected},
		{554, "5.7.26", "554 5.7.26 DMARC policy", Transient, SubGeneral},
		{553, "5.6.7", "no SMTPUTF8", Transient, SubContentRejected}, // the message, not the address
		{550, "", "550 Requested action not taken: user unknown", Permanent, SubNoEmail},
		{552, "", "552 Requested mail action aborted: mailbox full", Transient, SubMailboxFull},
		{554, "", "554 Message looks like spam", Transient, SubContentRejected},
		{550, "", "550 Administrative prohibition", Permanent, SubGeneral},
		{550, "5.0.0", "550 5.0.0 no such user here", Permanent, SubNoEmail},
		{450, "", "450 mailbox full, try later", Transient, SubMailboxFull},
		{421, "4.4.2", "421 4.4.2 timeout", Transient, SubGeneral},
		{0, "", "connection refused", Undetermined, SubUndetermined},
	} {
		if typ, sub := ClassifyReply(c.code, c.enhanced, c.text); typ != c.typ || sub != c.sub {
			t.Errorf("ClassifyReply(%d, %q, %q) = %s/%s, want %s/%s", c.code, c.enhanced, c.text, typ, sub, c.typ, c.sub)
		}
	}
}
