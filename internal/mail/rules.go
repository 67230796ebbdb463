package mail

import "strings"

// The SES tables below are switch statements rather than package-level maps
// so that no package state exists to be mutated.

// singleOccurrence reports whether a header may appear only once in a message
// SES accepts, and returns the spelling SES uses in its list (Developer Guide
// "Amazon SES header fields"; SES-BEHAVIOR §4.2).
func singleOccurrence(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "accept-language":
		return "Accept-Language", true
	case "acceptlanguage":
		return "acceptLanguage", true
	case "archived-at":
		return "Archived-At", true
	case "auto-submitted":
		return "Auto-Submitted", true
	case "bounces-to":
		return "Bounces-to", true
	case "comments":
		return "Comments", true
	case "content-alternative":
		return "Content-Alternative", true
	case "content-base":
		return "Content-Base", true
	case "content-class":
		return "Content-Class", true
	case "content-description":
		return "Content-Description", true
	case "content-disposition":
		return "Content-Disposition", true
	case "content-duration":
		return "Content-Duration", true
	case "content-id":
		return "Content-ID", true
	case "content-language":
		return "Content-Language", true
	case "content-length":
		return "Content-Length", true
	case "content-location":
		return "Content-Location", true
	case "content-md5":
		return "Content-MD5", true
	case "content-transfer-encoding":
		return "Content-Transfer-Encoding", true
	case "content-type":
		return "Content-Type", true
	case "date":
		return "Date", true
	case "delivered-to":
		return "Delivered-To", true
	case "disposition-notification-options":
		return "Disposition-Notification-Options", true
	case "disposition-notification-to":
		return "Disposition-Notification-To", true
	case "dkim-signature":
		return "DKIM-Signature", true
	case "domainkey-signature":
		return "DomainKey-Signature", true
	case "errors-to":
		return "Errors-To", true
	case "from":
		return "From", true
	case "importance":
		return "Importance", true
	case "in-reply-to":
		return "In-Reply-To", true
	case "keywords":
		return "Keywords", true
	case "list-archive":
		return "List-Archive", true
	case "list-help":
		return "List-Help", true
	case "list-id":
		return "List-Id", true
	case "list-owner":
		return "List-Owner", true
	case "list-post":
		return "List-Post", true
	case "list-subscribe":
		return "List-Subscribe", true
	case "list-unsubscribe":
		return "List-Unsubscribe", true
	case "list-unsubscribe-post":
		return "List-Unsubscribe-Post", true
	case "message-context":
		return "Message-Context", true
	case "message-id":
		return "Message-ID", true
	case "mime-version":
		return "MIME-Version", true
	case "organization":
		return "Organization", true
	case "original-from":
		return "Original-From", true
	case "original-message-id":
		return "Original-Message-ID", true
	case "original-recipient":
		return "Original-Recipient", true
	case "original-subject":
		return "Original-Subject", true
	case "precedence":
		return "Precedence", true
	case "priority":
		return "Priority", true
	case "references":
		return "References", true
	case "reply-to":
		return "Reply-To", true
	case "return-path":
		return "Return-Path", true
	case "return-receipt-to":
		return "Return-Receipt-To", true
	case "sender":
		return "Sender", true
	case "solicitation":
		return "Solicitation", true
	case "sensitivity":
		return "Sensitivity", true
	case "subject":
		return "Subject", true
	case "thread-index":
		return "Thread-Index", true
	case "thread-topic":
		return "Thread-Topic", true
	case "user-agent":
		return "User-Agent", true
	case "vbr-info":
		return "VBR-Info", true
	}
	return "", false
}

// blockedExtension reports whether SES refuses attachments with this file
// extension (lower case, without the dot). Developer Guide "Unsupported
// attachment types"; SES-BEHAVIOR §4.2.
func blockedExtension(ext string) bool {
	switch ext {
	case "ade", "adp", "app", "asp", "bas", "bat", "cer", "chm", "cmd", "com",
		"cpl", "crt", "csh", "der", "exe", "fxp", "gadget", "hlp", "hta", "inf",
		"ins", "isp", "its", "js", "jse", "ksh", "lib", "lnk", "mad", "maf",
		"mag", "mam", "maq", "mar", "mas", "mat", "mau", "mav", "maw", "mda",
		"mdb", "mde", "mdt", "mdw", "mdz", "msc", "msh", "msh1", "msh2",
		"mshxml", "msh1xml", "msh2xml", "msi", "msp", "mst", "ops", "pcd", "pif",
		"plg", "prf", "prg", "reg", "scf", "scr", "sct", "shb", "shs", "sys",
		"ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "tmp", "url", "vb",
		"vbe", "vbs", "vps", "vsmacros", "vss", "vst", "vsw", "vxd", "ws", "wsc",
		"wsf", "wsh", "xnk":
		return true
	}
	return false
}

// checkFilename returns the SES rejection for an attachment name with a
// blocked extension. Windows ignores trailing dots and spaces ("a.exe. "
// runs as a.exe), so they are ignored here too.
func checkFilename(name string) error {
	base := strings.TrimRight(name, ". \t")
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return nil
	}
	if blockedExtension(strings.ToLower(base[i+1:])) {
		return contentErr("Illegal filename '" + name + "'.")
	}
	return nil
}

// strippedHeader reports whether SES removes a header before delivery
// (SES-BEHAVIOR §4.3): Bcc, the X-SES-* control headers, and Return-Path,
// which SES replaces with its own bounce address.
func strippedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "bcc", "return-path",
		"x-ses-configuration-set", "x-ses-message-tags", "x-ses-source-arn",
		"x-ses-from-arn", "x-ses-return-path-arn", "x-ses-list-management-options":
		return true
	}
	return false
}

// reservedCustomHeader reports whether a v2 Simple/Template custom header
// names a field SES writes itself, which the API refuses (Developer Guide
// "Amazon SES header fields", considerations for API v2 custom headers).
func reservedCustomHeader(name string) bool {
	switch strings.ToLower(name) {
	case "bcc", "cc", "content-disposition", "content-type", "date", "from",
		"message-id", "mime-version", "reply-to", "return-path", "subject", "to":
		return true
	}
	return false
}

// dkimSignedHeaders is the header list SES signs when present (SES-BEHAVIOR
// §5.4) plus Feedback-ID, which SES signs in practice.
func dkimSignedHeaders() []string {
	return []string{
		"From", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc",
		"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
		"Content-ID", "Content-Description", "Resent-Date", "Resent-From",
		"Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
		"In-Reply-To", "References", "List-Id", "List-Help",
		"List-Unsubscribe", "List-Subscribe", "List-Post", "List-Owner",
		"List-Archive", "List-Unsubscribe-Post", "Feedback-ID",
	}
}
