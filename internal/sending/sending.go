// Package sending is the send use case shared by every protocol: SES v1
// SendEmail/SendRawEmail, v2 SendEmail and SMTP submission all end in
// Service.Send. It validates the message, applies SES's sending policy —
// account paused, verified senders, the sandbox, the recipient limit, message
// size, quotas and rate — builds or prepares the MIME, and enqueues it durably
// before a MessageId is returned (SES-BEHAVIOR §4, §6).
package sending

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/account"
	"github.com/sesamehq/sesame/internal/configset"
	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/identity"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/queue"
	"github.com/sesamehq/sesame/internal/store"
	"github.com/sesamehq/sesame/internal/tracking"
)

// Limits SES applies (SES-BEHAVIOR §4.2).
const (
	MaxRecipients = 50
	MaxSizeV1     = 10 << 20 // v1 API: 10 MB
	MaxSizeV2     = 40 << 20 // v2 API and SMTP: 40 MB
)

// SimulatorDomain is the mailbox simulator's domain (SES-BEHAVIOR §7).
const SimulatorDomain = "simulator.amazonses.com"

// Config holds what sending needs from the process settings.
type Config struct {
	Region   string
	Hostname string // Message-ID domain of Sesame's own mail
	// PublicURL is the base of tracking links without a custom redirect
	// domain; Tracker signs them. A nil Tracker turns tracking off.
	PublicURL string
	Tracker   *tracking.Signer
}

// Service is the send use case.
type Service struct {
	cfg        Config
	db         *store.DB
	accounts   *account.Service
	identities *identity.Service
	configSets *configset.Service
	queue      *queue.Queue
	now        func() time.Time
	log        *slog.Logger
}

// New returns the sending service.
func New(cfg Config, db *store.DB, accounts *account.Service, identities *identity.Service, sets *configset.Service, q *queue.Queue, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, db: db, accounts: accounts, identities: identities, configSets: sets, queue: q, now: now, log: log}
}

// Request is one message to send, as any protocol delivers it.
type Request struct {
	AccountID string
	Operation string // SendEmail, SendRawEmail, SendSmtpEmail … (ses:operation)

	// Source is v1 Source / v2 FromEmailAddress / SMTP MAIL FROM. For
	// simple content it is also the From header; for raw content it may be
	// empty, and the From header is used.
	Source string
	// ReturnPath is v1 ReturnPath / v2 FeedbackForwardingEmailAddress.
	ReturnPath string
	ReplyTo    []string

	// To, Cc and Bcc are the recipients of simple content.
	To, Cc, Bcc []string
	Subject     mail.Content
	Text, HTML  mail.Content
	Headers     []mail.Header     // v2 custom headers
	Attachments []mail.Attachment // v2 attachments

	// Raw is a complete MIME message (SendRawEmail, v2 Raw, SMTP DATA).
	Raw []byte
	// Destinations override the raw message's header recipients (v1
	// Destinations, SMTP RCPT TO).
	Destinations []string

	ConfigSet string
	Tags      []mail.Tag
	MaxSize   int // MaxSizeV1 or MaxSizeV2
}

// Send validates and enqueues a message and returns its MessageId once the
// message is durable.
func (s *Service) Send(ctx context.Context, r *Request) (string, error) {
	return s.accept(ctx, r, s.queue.Enqueue)
}

// accept applies SES's sending policy to r — account paused, the content,
// the configuration set, the recipient count, verified senders and the
// sandbox, the MAIL FROM domain — and then, in one write, commits the message
// with commit (enqueue it, or record why it cannot be sent) and charges the
// quota and rate. Every send path goes through here, so a rule is written
// once.
func (s *Service) accept(ctx context.Context, r *Request, commit func(*store.Tx, *queue.Message) error) (string, error) {
	for attempt := 1; ; attempt++ {
		id, err := s.acceptOnce(ctx, r, commit)
		// The account changed under the checks (account.Charge): check
		// again with what it is now. Only an operator's change does that,
		// so a second attempt is all but certain to settle it.
		if errors.Is(err, account.ErrChanged) && attempt < maxAttempts {
			continue
		}
		return id, err
	}
}

// maxAttempts bounds how often accept starts over on account.ErrChanged.
const maxAttempts = 3

// acceptOnce is one attempt of accept.
func (s *Service) acceptOnce(ctx context.Context, r *Request, commit func(*store.Tx, *queue.Message) error) (string, error) {
	now := s.now().UTC()
	acct, err := s.accounts.ForSend(ctx, r.AccountID)
	if err != nil {
		return "", err
	}
	if !acct.SendingEnabled {
		return "", fault.New(fault.AccountSendingPaused, "Email sending is disabled for this account.")
	}
	id := mail.NewMessageID(now)
	msg := &queue.Message{ID: id, AccountID: acct.ID, CreatedAt: now, Operation: r.Operation}

	var from mail.Address
	var senders []string // addresses that must be verified, in SES's order
	if r.Raw != nil {
		if err := s.prepareRaw(r, msg, now, &from, &senders); err != nil {
			return "", err
		}
	} else {
		if err := s.buildSimple(r, msg, now, &from, &senders); err != nil {
			return "", err
		}
	}
	// The named configuration set, else the From identity's default (§4.4).
	cov := &coverage{ids: s.identities, account: acct.ID}
	var defaultSet string
	if r.ConfigSet == "" {
		if id, err := cov.of(ctx, from.Addr); err != nil {
			return "", err
		} else if id != nil {
			defaultSet = id.ConfigSet
		}
	}
	if msg.ConfigSet, err = s.configSets.ForMessage(ctx, acct.ID, r.ConfigSet, defaultSet); err != nil {
		return "", err
	}
	if n := len(msg.Recipients); n == 0 {
		return "", fault.New(fault.InvalidParameter, "Missing required header 'To'.")
	} else if n > MaxRecipients {
		return "", fault.New(fault.MessageRejected, "Recipient count exceeds %d.", MaxRecipients)
	}
	if err := s.checkVerified(ctx, acct, cov, senders, msg.Recipients); err != nil {
		return "", err
	}
	if err := checkMailFrom(ctx, cov, msg.Source); err != nil {
		return "", err
	}
	if err := s.track(ctx, msg); err != nil {
		return "", err
	}
	quotaRcpts := 0
	for _, rc := range msg.Recipients {
		if !isSimulator(rc) {
			quotaRcpts++
		}
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := commit(tx, msg); err != nil {
			return err
		}
		return s.accounts.Charge(tx, acct, len(msg.Recipients), quotaRcpts, now)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// buildSimple makes the MIME of simple content.
func (s *Service) buildSimple(r *Request, msg *queue.Message, now time.Time, from *mail.Address, senders *[]string) error {
	if r.Source == "" {
		return fault.New(fault.InvalidParameter, "Missing required parameter Source.")
	}
	a, err := parseAddress(r.Source)
	if err != nil {
		return err
	}
	*from = a
	msg.Source, msg.From = a.Addr, a.Addr
	*senders = append(*senders, a.Addr)
	if r.ReturnPath != "" {
		rp, err := parseAddress(r.ReturnPath)
		if err != nil {
			return err
		}
		*senders = append(*senders, rp.Addr)
	}
	for _, list := range [][]string{r.To, r.Cc, r.Bcc} {
		for _, to := range list {
			a, err := parseAddress(to)
			if err != nil {
				return err
			}
			msg.Recipients = append(msg.Recipients, a.Addr)
		}
	}
	for _, rt := range r.ReplyTo {
		if _, err := parseAddress(rt); err != nil {
			return err
		}
	}
	if len(msg.Recipients) > MaxRecipients {
		return fault.New(fault.MessageRejected, "Recipient count exceeds %d.", MaxRecipients)
	}
	data, err := mail.Build(mail.Simple{From: r.Source, To: r.To, Cc: r.Cc, ReplyTo: r.ReplyTo, Subject: r.Subject,
		Text: r.Text, HTML: r.HTML, Headers: r.Headers, Attachments: r.Attachments,
		MessageID: mail.MessageIDHeader(msg.ID, s.messageIDDomain()), Date: now})
	if err != nil {
		return contentError(err)
	}
	if r.MaxSize > 0 && len(data) > r.MaxSize {
		return fault.New(fault.MessageRejected, "Message length is more than %d bytes long: '%d'.", r.MaxSize, len(data))
	}
	msg.Data = data
	msg.Tags = tagMap(r.Tags)
	if hs, err := mail.ParseHeader(data); err == nil {
		msg.Headers = headers(hs)
	}
	return nil
}

// prepareRaw checks and rewrites a raw message.
func (s *Service) prepareRaw(r *Request, msg *queue.Message, now time.Time, from *mail.Address, senders *[]string) error {
	if r.MaxSize > 0 && len(r.Raw) > r.MaxSize {
		return fault.New(fault.MessageRejected, "Message length is more than %d bytes long: '%d'.", r.MaxSize, len(r.Raw))
	}
	p, err := mail.PrepareRaw(r.Raw, mail.RawOptions{MessageID: mail.MessageIDHeader(msg.ID, s.messageIDDomain()), Date: now})
	if err != nil {
		return contentError(err)
	}
	if len(p.From) == 0 && r.Source == "" {
		return fault.New(fault.MessageRejected, "Missing required header 'From'.")
	}
	if len(p.From) > 0 {
		*from = p.From[0]
		msg.From = from.Addr
		*senders = append(*senders, from.Addr)
	}
	if r.Source != "" {
		a, err := parseAddress(r.Source)
		if err != nil {
			return err
		}
		msg.Source = a.Addr
		if msg.From == "" {
			*from, msg.From = a, a.Addr
		}
		*senders = append(*senders, a.Addr)
	} else {
		msg.Source = msg.From
	}
	for _, h := range [][]mail.Address{p.Sender, p.ReturnPath} {
		for _, a := range h {
			*senders = append(*senders, a.Addr)
		}
	}
	if r.ReturnPath != "" {
		rp, err := parseAddress(r.ReturnPath)
		if err != nil {
			return err
		}
		*senders = append(*senders, rp.Addr)
	}
	if len(r.Destinations) > 0 {
		for _, d := range r.Destinations {
			a, err := parseAddress(d)
			if err != nil {
				return err
			}
			msg.Recipients = append(msg.Recipients, a.Addr)
		}
	} else {
		for _, list := range [][]mail.Address{p.To, p.Cc, p.Bcc} {
			for _, a := range list {
				msg.Recipients = append(msg.Recipients, a.Addr)
			}
		}
	}
	if r.ConfigSet == "" {
		r.ConfigSet = p.SESConfigurationSet
	}
	tags := append([]mail.Tag(nil), r.Tags...)
	msg.Tags = tagMap(append(tags, p.SESMessageTags...))
	msg.Headers = headers(p.Header)
	msg.Data = p.Data
	return nil
}

// checkVerified applies the verified-identity rule and the sandbox: every
// sender address must be covered by a verified identity and, in the sandbox,
// every recipient too (or be a mailbox-simulator address). The refusal lists
// every address that failed, as SES does (SES-BEHAVIOR §6.3).
func (s *Service) checkVerified(ctx context.Context, acct *account.Account, cov *coverage, senders, rcpts []string) error {
	var failed, checked []string
	check := func(addr string) error {
		if slices.ContainsFunc(checked, func(c string) bool { return strings.EqualFold(c, addr) }) {
			return nil
		}
		checked = append(checked, addr)
		id, err := cov.of(ctx, addr)
		if err != nil {
			return err
		}
		if id == nil {
			failed = append(failed, addr)
		}
		return nil
	}
	for _, a := range senders {
		if err := check(a); err != nil {
			return err
		}
	}
	if acct.Sandbox {
		for _, a := range rcpts {
			if isSimulator(a) {
				continue
			}
			if err := check(a); err != nil {
				return err
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fault.New(fault.MessageRejected, "Email address is not verified. The following identities failed the check in region %s: %s",
		strings.ToUpper(s.cfg.Region), strings.Join(failed, ", "))
}

// checkMailFrom refuses the message when the sender's custom MAIL FROM
// domain is not verified and the identity says to reject (§5.5).
func checkMailFrom(ctx context.Context, cov *coverage, source string) error {
	id, err := cov.of(ctx, source)
	if err != nil || id == nil {
		return err
	}
	mf := id.MailFrom
	if mf.Domain != "" && mf.Status != identity.Success && mf.Behavior == identity.RejectMessage {
		return fault.New(fault.MailFromNotVerified, "The MAIL FROM domain %s is not verified.", mf.Domain)
	}
	return nil
}

// coverage looks up, for one send, the verified identity covering each
// address (identity.Service.Covering), once per address: the sender is
// asked about up to three times (its default configuration set, the
// verified-sender rule, its MAIL FROM setting).
type coverage struct {
	ids     *identity.Service
	account string
	addrs   []string
	found   []*identity.Identity // found[i] covers addrs[i]; nil for none
}

func (c *coverage) of(ctx context.Context, addr string) (*identity.Identity, error) {
	for i, a := range c.addrs {
		if strings.EqualFold(a, addr) {
			return c.found[i], nil
		}
	}
	id, err := c.ids.Covering(ctx, c.account, addr)
	if err != nil {
		return nil, err
	}
	c.addrs, c.found = append(c.addrs, addr), append(c.found, id)
	return id, nil
}

// SendSystemMail enqueues Sesame's own mail (verification requests). It is
// not subject to the sender checks or the quota.
func (s *Service) SendSystemMail(ctx context.Context, m identity.SystemMail) (string, error) {
	now := s.now().UTC()
	id := mail.NewMessageID(now)
	data, err := mail.Build(mail.Simple{From: m.From, To: []string{m.To}, Subject: mail.Content{Data: m.Subject},
		Text: mail.Content{Data: m.Text}, HTML: mail.Content{Data: m.HTML},
		MessageID: mail.MessageIDHeader(id, s.messageIDDomain()), Date: now})
	if err != nil {
		return "", contentError(err)
	}
	msg := &queue.Message{ID: id, AccountID: m.AccountID, CreatedAt: now, Operation: m.Operation, Source: m.From, From: m.From,
		Data: data, Recipients: []string{strings.ToLower(m.To)}, System: true, ConfigSet: m.ConfigSet}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return s.queue.Enqueue(tx, msg) }); err != nil {
		return "", err
	}
	return id, nil
}

// CheckConfigSet refuses a configuration set no send could use: unknown
// (ConfigSetNotFound) or paused (ConfigSetSendingPaused), as Send would.
func (s *Service) CheckConfigSet(ctx context.Context, account, name string) error {
	_, err := s.configSets.ForMessage(ctx, account, name, "")
	return err
}

// messageIDDomain is the domain of the Message-ID header SES writes
// (<id@email.amazonses.com> there; Sesame's host name here).
func (s *Service) messageIDDomain() string { return s.cfg.Hostname }

func isSimulator(addr string) bool {
	return strings.EqualFold(identity.DomainOf(addr), SimulatorDomain)
}

func parseAddress(s string) (mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return mail.Address{}, contentError(err)
	}
	return a, nil
}

// contentError maps the mail package's errors to SES's kinds: a bad address
// is InvalidParameterValue, a bad message MessageRejected.
func contentError(err error) error {
	var ae *mail.AddressError
	if errors.As(err, &ae) {
		return fault.New(fault.InvalidParameter, "%s", ae.Reason)
	}
	var ce *mail.ContentError
	if errors.As(err, &ce) {
		return fault.New(fault.MessageRejected, "%s", ce.Reason)
	}
	return fmt.Errorf("sending: %w", err)
}

func tagMap(tags []mail.Tag) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string][]string, len(tags))
	for _, t := range tags {
		m[t.Name] = append(m[t.Name], t.Value)
	}
	return m
}

func headers(hs []mail.Header) []queue.Header {
	out := make([]queue.Header, len(hs))
	for i, h := range hs {
		out[i] = queue.Header{Name: h.Name, Value: h.Value}
	}
	return out
}
