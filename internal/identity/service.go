package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/sesamehq/sesame/internal/fault"
	"github.com/sesamehq/sesame/internal/store"
)

// Resolver is what verification needs of DNS.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupCNAME(ctx context.Context, name string) (string, error)
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
}

// Mailer sends Sesame's own mail (verification requests) through the normal
// queue and delivery path.
type Mailer interface {
	SendSystemMail(ctx context.Context, m SystemMail) (messageID string, err error)
	// CheckConfigSet refuses a configuration set a send could not use
	// (unknown or paused), with the error a send would give.
	CheckConfigSet(ctx context.Context, account, name string) error
}

// SystemMail is a message Sesame sends on an account's behalf.
type SystemMail struct {
	AccountID string
	From      string
	To        string
	Subject   string
	Text      string
	HTML      string
	Operation string // e.g. SendCustomVerificationEmail
	ConfigSet string // the configuration set the mail is sent with, if any
}

// Config holds the settings identities depend on.
type Config struct {
	Region    string
	PublicURL string // base of verification links
	Zone      string // Sesame's DKIM zone: Easy DKIM CNAMEs point to <token>.<Zone>
	Hostname  string // the expected MX of custom MAIL FROM domains, and the From domain of verification mail
	// FirstCheck is the first delay of the DNS check schedule for pending
	// identities; it doubles up to MaxCheckInterval.
	FirstCheck       time.Duration
	MaxCheckInterval time.Duration
	// Recheck is how often verified identities are checked again.
	Recheck time.Duration
	// GiveUp is how long SES looks for records before failing (72 h).
	GiveUp time.Duration
	// LinkTTL is how long a verification link is valid (24 h).
	LinkTTL time.Duration
	// KeyBits is the default Easy DKIM key size (2048).
	KeyBits int
}

// Service manages identities.
type Service struct {
	cfg      Config
	db       *store.DB
	resolver Resolver
	mailer   Mailer
	topics   Topics // SetTopics; notification topics are checked against it
	now      func() time.Time
	log      *slog.Logger

	cache cache
	kick  chan struct{} // wakes the checker
	zone  sync.Map      // token → public record
	keys  sync.Map      // token → parsed private key
	wg    sync.WaitGroup
}

// New returns the identity service. SetMailer must be called before any
// email verification is requested.
func New(cfg Config, db *store.DB, resolver Resolver, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.FirstCheck, time.Second)
	def(&cfg.MaxCheckInterval, 5*time.Minute)
	def(&cfg.Recheck, 6*time.Hour)
	def(&cfg.GiveUp, 72*time.Hour)
	def(&cfg.LinkTTL, 24*time.Hour)
	if cfg.KeyBits == 0 {
		cfg.KeyBits = 2048
	}
	return &Service{cfg: cfg, db: db, resolver: resolver, now: now, log: log, kick: make(chan struct{}, 1)}
}

// SetMailer sets how verification mail is sent (the sending service, which
// itself depends on identities).
func (s *Service) SetMailer(m Mailer) { s.mailer = m }

// CreateOptions are the optional parts of v2 CreateEmailIdentity.
type CreateOptions struct {
	DKIM      *DKIMOptions
	ConfigSet string
	Tags      []Tag
}

// DKIMOptions choose a domain's signing: BYODKIM when Selector and
// PrivateKey are given, else Easy DKIM with NextKeyLength (default 2048).
type DKIMOptions struct {
	Selector      string
	PrivateKey    string // base64 PKCS#1 or PKCS#8 (PEM accepted)
	NextKeyLength string
}

// Create is v2 CreateEmailIdentity: an address gets a verification mail, a
// domain gets DKIM (Easy DKIM unless a BYODKIM key is given) and is verified
// by DNS. An existing identity is AlreadyExists.
func (s *Service) Create(ctx context.Context, account, name string, o CreateOptions) (*Identity, error) {
	name = Normalize(name)
	if err := validateName(name); err != nil {
		return nil, err
	}
	if cur, err := s.get(ctx, account, name); err != nil {
		return nil, err
	} else if cur != nil {
		return nil, fault.Named(fault.AlreadyExists, name, "Email identity %s already exist.", name)
	}
	now := s.now().UTC()
	id := &Identity{AccountID: account, Name: name, Kind: KindOf(name), Status: Pending, CreatedAt: now, pendingSince: now,
		FeedbackForwarding: true, ConfigSet: o.ConfigSet, Tags: o.Tags, MailFrom: MailFrom{Behavior: UseDefaultValue}}
	id.DKIM.Status, id.DKIM.Enabled = NotStarted, true
	var keys []dkimKey
	if id.Kind == Domain {
		var err error
		if keys, err = s.setupDKIM(id, o.DKIM); err != nil {
			return nil, err
		}
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if cur, err := load(tx, account, name); err != nil {
			return err
		} else if cur != nil {
			return fault.Named(fault.AlreadyExists, name, "Email identity %s already exist.", name)
		}
		if err := s.save(tx, id); err != nil {
			return err
		}
		if err := insertKeys(tx, account, name, keys); err != nil {
			return err
		}
		if id.Kind == Domain {
			return schedule(tx, account, name, store.Millis(now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cacheKeys(keys)
	if id.Kind == EmailAddress {
		if _, err := s.sendVerification(ctx, id, nil, "", ""); err != nil {
			return nil, err
		}
	} else {
		s.wake()
	}
	return s.Get(ctx, account, name)
}

// VerifyEmail is v1 VerifyEmailIdentity and VerifyEmailAddress: it creates the
// address identity if needed and (re)sends the verification mail, resetting
// it to Pending; for a verified address it does nothing.
func (s *Service) VerifyEmail(ctx context.Context, account, email string) error {
	_, err := s.requestEmail(ctx, account, email, nil, "", "")
	return err
}

// SendCustomVerification is SendCustomVerificationEmail: like VerifyEmail but
// the mail is made from the account's template, and it is sent even when the
// address is already verified.
func (s *Service) SendCustomVerification(ctx context.Context, account, email, templateName, configSet string) (string, error) {
	if configSet != "" && s.mailer != nil {
		if err := s.mailer.CheckConfigSet(ctx, account, configSet); err != nil {
			return "", err
		}
	}
	t, err := s.GetTemplate(ctx, account, templateName)
	if err != nil {
		return "", err
	}
	if ok, err := s.Verified(ctx, account, t.FromAddress); err != nil {
		return "", err
	} else if !ok {
		return "", fault.Named(fault.FromNotVerified, t.FromAddress, "Email address %s is not verified.", t.FromAddress)
	}
	return s.requestEmail(ctx, account, email, t, "SendCustomVerificationEmail", configSet)
}

func (s *Service) requestEmail(ctx context.Context, account, email string, t *Template, operation, configSet string) (string, error) {
	email = Normalize(email)
	if err := validateName(email); err != nil {
		return "", err
	}
	if KindOf(email) != EmailAddress {
		return "", fault.New(fault.InvalidParameter, "Invalid email address <%s>.", email)
	}
	id, err := s.get(ctx, account, email)
	if err != nil {
		return "", err
	}
	if id != nil && id.Status == Success && t == nil {
		return "", nil
	}
	if id == nil {
		now := s.now().UTC()
		id = &Identity{AccountID: account, Name: email, Kind: EmailAddress, Status: Pending, CreatedAt: now, pendingSince: now,
			FeedbackForwarding: true, MailFrom: MailFrom{Behavior: UseDefaultValue}, DKIM: DKIM{Status: NotStarted, Enabled: true}}
	}
	return s.sendVerification(ctx, id, t, operation, configSet)
}

// sendVerification stores a fresh link secret and mails the link.
func (s *Service) sendVerification(ctx context.Context, id *Identity, t *Template, operation, configSet string) (string, error) {
	if s.mailer == nil {
		return "", fmt.Errorf("identity: no mailer configured")
	}
	token := make([]byte, 24)
	rand.Read(token)
	id.emailToken = hex.EncodeToString(token)
	id.emailSentAt = s.now().UTC()
	id.template = ""
	if t != nil {
		id.template = t.Name
	}
	if id.Status != Success {
		id.Status = Pending
		id.pendingSince = id.emailSentAt
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return s.save(tx, id) }); err != nil {
		return "", err
	}
	link := s.cfg.PublicURL + "/verify-email?" + linkQuery(id.AccountID, id.Name, id.emailToken)
	m := defaultVerificationMail(s.cfg, id.Name, link)
	m.AccountID, m.Operation = id.AccountID, "VerifyEmailIdentity"
	if t != nil {
		m.From, m.Subject, m.Operation = t.FromAddress, t.Subject, operation
		m.HTML = t.Content + "\r\n<p><a href=\"" + link + "\">" + link + "</a></p>\r\n"
		m.Text = ""
	}
	m.ConfigSet = configSet
	return s.mailer.SendSystemMail(ctx, m)
}

// VerifyDomainIdentity is v1's legacy domain verification: it returns the
// token to publish as TXT _amazonses.<domain>, creating the identity if needed.
func (s *Service) VerifyDomainIdentity(ctx context.Context, account, domain string) (string, error) {
	domain = Normalize(domain)
	if err := validateName(domain); err != nil {
		return "", err
	}
	if KindOf(domain) != Domain {
		return "", fault.New(fault.InvalidParameter, "Invalid domain name %s.", domain)
	}
	var token string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		id, err := load(tx, account, domain)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if id == nil {
			id = s.newDomain(account, domain, now)
		}
		if id.VerificationToken == "" {
			b := make([]byte, 33)
			rand.Read(b)
			id.VerificationToken = base64.StdEncoding.EncodeToString(b)
		}
		if id.Status != Success {
			id.Status, id.pendingSince = Pending, now
		}
		token = id.VerificationToken
		if err := s.save(tx, id); err != nil {
			return err
		}
		return schedule(tx, account, domain, store.Millis(now))
	})
	if err == nil {
		s.wake()
	}
	return token, err
}

// VerifyDomainDkim is v1's Easy DKIM set-up: it returns the three tokens to
// publish as CNAMEs, creating the identity and its keys if needed.
func (s *Service) VerifyDomainDkim(ctx context.Context, account, domain string) ([]string, error) {
	domain = Normalize(domain)
	if err := validateName(domain); err != nil {
		return nil, err
	}
	if KindOf(domain) != Domain {
		return nil, fault.New(fault.InvalidParameter, "Invalid domain name %s.", domain)
	}
	cur, err := s.get(ctx, account, domain)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.DKIM.Origin == OriginAWSSES {
		s.CheckSoon(ctx, account, domain)
		return cur.DKIM.Tokens, nil
	}
	now := s.now().UTC()
	id := cur
	if id == nil {
		id = s.newDomain(account, domain, now)
	}
	keys, err := s.setupDKIM(id, nil)
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec("DELETE FROM dkim_keys WHERE account_id = ? AND identity = ?", account, domain); err != nil {
			return err
		}
		if err := s.save(tx, id); err != nil {
			return err
		}
		if err := insertKeys(tx, account, domain, keys); err != nil {
			return err
		}
		return schedule(tx, account, domain, store.Millis(now))
	})
	if err != nil {
		return nil, err
	}
	s.cacheKeys(keys)
	s.wake()
	return id.DKIM.Tokens, nil
}

func (s *Service) newDomain(account, domain string, now time.Time) *Identity {
	return &Identity{AccountID: account, Name: domain, Kind: Domain, Status: Pending, CreatedAt: now, pendingSince: now,
		FeedbackForwarding: true, MailFrom: MailFrom{Behavior: UseDefaultValue}, DKIM: DKIM{Status: NotStarted, Enabled: true}}
}

// Get returns an identity, or NotFound.
func (s *Service) Get(ctx context.Context, account, name string) (*Identity, error) {
	name = Normalize(name)
	id, err := s.get(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, fault.Named(fault.NotFound, name, "Email identity %s does not exist.", name)
	}
	return id, nil
}

// Lookup returns an identity or nil when there is none.
func (s *Service) Lookup(ctx context.Context, account, name string) (*Identity, error) {
	return s.get(ctx, account, Normalize(name))
}

// List returns up to limit identities of the kind ("" for all) whose names
// sort after the cursor, in name order, and the cursor of the next page ("" at
// the end).
func (s *Service) List(ctx context.Context, account string, kind Kind, after string, limit int) ([]*Identity, string, error) {
	q := "SELECT " + columns + " FROM identities WHERE account_id = ? AND name > ?"
	args := []any{account, after}
	if kind != "" {
		q += " AND kind = ?"
		args = append(args, kind)
	}
	q += " ORDER BY name LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, "", err
		}
		s.view(id)
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Name
	}
	return out, next, nil
}

// Delete removes an identity with its keys and settings; it reports whether
// the identity existed (v1 ignores that, v2 answers NotFound).
func (s *Service) Delete(ctx context.Context, account, name string) (bool, error) {
	name = Normalize(name)
	var existed bool
	var tokens []string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		id, err := load(tx, account, name)
		if err != nil || id == nil {
			return err
		}
		existed, tokens = true, id.DKIM.Tokens
		s.cache.invalidate(account, name)
		tx.AfterCommit(func() { s.cache.invalidate(account, name) })
		if _, err := tx.Exec("DELETE FROM dkim_keys WHERE account_id = ? AND identity = ?", account, name); err != nil {
			return err
		}
		if _, err := tx.Exec("DELETE FROM identity_notifications WHERE account_id = ? AND identity = ?", account, name); err != nil {
			return err
		}
		_, err = tx.Exec("DELETE FROM identities WHERE account_id = ? AND name = ?", account, name)
		return err
	})
	if err == nil {
		for _, t := range tokens {
			s.zone.Delete(t)
		}
	}
	return existed, err
}

// SetDkimEnabled is v1 SetIdentityDkimEnabled / v2 PutEmailIdentityDkimAttributes.
// A domain needs DKIM set up first; an address may turn off the signing it
// inherits from its domain.
func (s *Service) SetDkimEnabled(ctx context.Context, account, name string, enabled bool) error {
	return s.modify(ctx, account, name, func(id *Identity) error {
		if id.Kind == Domain && id.DKIM.Origin == "" && enabled {
			return fault.New(fault.InvalidParameter, "Domain %s does not have DKIM tokens; call VerifyDomainDkim first.", id.Name)
		}
		id.DKIM.Enabled = enabled
		return nil
	})
}

// SetFeedbackForwarding is v1 SetIdentityFeedbackForwardingEnabled and v2
// PutEmailIdentityFeedbackAttributes.
func (s *Service) SetFeedbackForwarding(ctx context.Context, account, name string, enabled bool) error {
	return s.modify(ctx, account, name, func(id *Identity) error { id.FeedbackForwarding = enabled; return nil })
}

// SetConfigSet sets the identity's default configuration set.
func (s *Service) SetConfigSet(ctx context.Context, account, name, set string) error {
	return s.modify(ctx, account, name, func(id *Identity) error { id.ConfigSet = set; return nil })
}

// PutDkimSigningAttributes is v2 PutEmailIdentityDkimSigningAttributes:
// switch a domain to Easy DKIM (origin AWS_SES, optionally with a new key
// length: keys are replaced under the same tokens, so the published CNAMEs
// keep working) or to BYODKIM (origin EXTERNAL with selector and key).
func (s *Service) PutDkimSigningAttributes(ctx context.Context, account, name, origin string, o DKIMOptions) (*Identity, error) {
	name = Normalize(name)
	id, err := s.Get(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if id.Kind != Domain {
		return nil, fault.New(fault.InvalidParameter, "DKIM signing attributes can only be set on a domain identity.")
	}
	var keys []dkimKey
	switch origin {
	case OriginExternal:
		if o.Selector == "" || o.PrivateKey == "" {
			return nil, fault.New(fault.InvalidParameter, "DomainSigningSelector and DomainSigningPrivateKey are required for EXTERNAL signing.")
		}
		if keys, err = s.setupDKIM(id, &DKIMOptions{Selector: o.Selector, PrivateKey: o.PrivateKey}); err != nil {
			return nil, err
		}
	case OriginAWSSES, "":
		if id.DKIM.Origin == OriginAWSSES && (o.NextKeyLength == "" || o.NextKeyLength == id.DKIM.KeyLength) {
			return id, nil
		}
		tokens := id.DKIM.Tokens
		if id.DKIM.Origin != OriginAWSSES {
			tokens = nil
		}
		if keys, err = s.easyDKIM(id, o.NextKeyLength, tokens); err != nil {
			return nil, err
		}
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid SigningAttributesOrigin %s.", origin)
	}
	now := s.now().UTC()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec("DELETE FROM dkim_keys WHERE account_id = ? AND identity = ?", account, name); err != nil {
			return err
		}
		if err := s.save(tx, id); err != nil {
			return err
		}
		if err := insertKeys(tx, account, name, keys); err != nil {
			return err
		}
		return schedule(tx, account, name, store.Millis(now))
	})
	if err != nil {
		return nil, err
	}
	s.cacheKeys(keys)
	s.wake()
	return s.Get(ctx, account, name)
}

// SetMailFrom is v1 SetIdentityMailFromDomain / v2
// PutEmailIdentityMailFromAttributes. An empty domain clears the setting.
func (s *Service) SetMailFrom(ctx context.Context, account, name, domain, behavior string) error {
	domain = Normalize(domain)
	if behavior == "" {
		behavior = UseDefaultValue
	}
	err := s.modify(ctx, account, name, func(id *Identity) error {
		if domain == "" {
			id.MailFrom = MailFrom{Behavior: behavior}
			return nil
		}
		parent := DomainOf(id.Name)
		if !strings.HasSuffix(domain, "."+parent) {
			return fault.New(fault.InvalidParameter, "Custom MAIL FROM domain %s must be a subdomain of %s.", domain, parent)
		}
		if err := validateName(domain); err != nil {
			return err
		}
		id.MailFrom = MailFrom{Domain: domain, Status: Pending, Behavior: behavior}
		return nil
	})
	if err == nil && domain != "" {
		s.CheckSoon(ctx, account, Normalize(name))
	}
	return err
}

// modify applies f to an identity inside one write.
func (s *Service) modify(ctx context.Context, account, name string, f func(*Identity) error) error {
	name = Normalize(name)
	return s.db.Write(ctx, func(tx *store.Tx) error {
		id, err := load(tx, account, name)
		if err != nil {
			return err
		}
		if id == nil {
			return fault.Named(fault.NotFound, name, "Email identity %s does not exist.", name)
		}
		if err := f(id); err != nil {
			return err
		}
		return s.save(tx, id)
	})
}

// Covering returns the most specific verified identity that covers addr: the
// address itself, else its domain or the nearest verified parent domain
// (SES-BEHAVIOR §5.1). It returns nil when none does.
func (s *Service) Covering(ctx context.Context, account, addr string) (*Identity, error) {
	addr = Normalize(addr)
	candidates := []string{}
	if KindOf(addr) == EmailAddress {
		candidates = append(candidates, addr)
	}
	d := DomainOf(addr)
	for d != "" {
		candidates = append(candidates, d)
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
	}
	for _, c := range candidates {
		id, err := s.get(ctx, account, c)
		if err != nil {
			return nil, err
		}
		if id != nil && id.VerifiedForSending() {
			return id, nil
		}
	}
	return nil, nil
}

// Verified reports whether addr is covered by a verified identity.
func (s *Service) Verified(ctx context.Context, account, addr string) (bool, error) {
	id, err := s.Covering(ctx, account, addr)
	return id != nil, err
}

// ConfirmEmail follows a verification link. It returns where to redirect the
// browser ("" for Sesame's own page) and whether the address is now verified.
// A tampered link verifies nothing; an expired one fails the identity.
func (s *Service) ConfirmEmail(ctx context.Context, account, name, token string) (redirect string, ok bool, err error) {
	name = Normalize(name)
	var tmpl string
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		id, err := load(tx, account, name)
		if err != nil || id == nil || id.emailToken == "" {
			return err
		}
		tmpl = id.template
		if !equalToken(id.emailToken, token) {
			return nil
		}
		if s.now().Sub(id.emailSentAt) > s.cfg.LinkTTL {
			if id.Status != Success {
				id.Status = Failed
			}
			id.emailToken = ""
			return s.save(tx, id)
		}
		id.Status, id.emailToken, ok = Success, "", true
		id.LastSuccessAt = s.now().UTC()
		return s.save(tx, id)
	})
	if err != nil || tmpl == "" {
		return "", ok, err
	}
	t, terr := s.GetTemplate(ctx, account, tmpl)
	if terr != nil {
		return "", ok, nil
	}
	if ok {
		return t.SuccessURL, ok, nil
	}
	return t.FailureURL, ok, nil
}

func validateName(name string) error {
	if name == "" {
		return fault.New(fault.InvalidParameter, "Identity must not be empty.")
	}
	if len(name) > 320 {
		return fault.New(fault.InvalidParameter, "Identity %s is too long.", name)
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' {
			return fault.New(fault.InvalidParameter, "Invalid identity %s: only 7-bit ASCII is allowed (use punycode for international domains).", name)
		}
	}
	domain := DomainOf(name)
	if strings.Count(name, "@") > 1 || (KindOf(name) == EmailAddress && strings.IndexByte(name, '@') == 0) {
		return fault.New(fault.InvalidParameter, "Invalid email address <%s>.", name)
	}
	if len(domain) > 255 || domain == "" || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return fault.New(fault.InvalidParameter, "Invalid domain name %s.", domain)
	}
	for _, label := range strings.Split(domain, ".") {
		if len(label) > 63 {
			return fault.New(fault.InvalidParameter, "Invalid domain name %s: label longer than 63 characters.", domain)
		}
	}
	return nil
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
