package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesamehq/sesame/internal/dns"
	"github.com/sesamehq/sesame/internal/mail"
	"github.com/sesamehq/sesame/internal/store"
)

// Run re-checks identities whose DNS check is due until ctx ends: pending
// ones on a schedule that starts at FirstCheck and doubles to
// MaxCheckInterval (Failed after GiveUp), verified ones every Recheck.
func (s *Service) Run(ctx context.Context) {
	s.wg.Add(1)
	defer s.wg.Done()
	for {
		next, err := s.checkDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("identity: checking DNS", "err", err)
			next = s.now().Add(5 * time.Second)
		}
		wait := time.Minute
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// checkDue checks every identity that is due and returns the next due time.
func (s *Service) checkDue(ctx context.Context) (time.Time, error) {
	now := store.Millis(s.now())
	rows, err := s.db.Read().QueryContext(ctx, "SELECT account_id, name FROM identities WHERE next_check_at > 0 AND next_check_at <= ? ORDER BY next_check_at LIMIT 100", now)
	if err != nil {
		return time.Time{}, err
	}
	type key struct{ account, name string }
	var due []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.account, &k.name); err != nil {
			rows.Close()
			return time.Time{}, err
		}
		due = append(due, k)
	}
	rows.Close()
	for _, k := range due {
		if _, err := s.CheckNow(ctx, k.account, k.name); err != nil && ctx.Err() == nil {
			s.log.Warn("identity: check failed", "account", k.account, "identity", k.name, "err", err)
		}
	}
	var next int64
	err = s.db.Read().QueryRowContext(ctx, "SELECT COALESCE(MIN(next_check_at), 0) FROM identities WHERE next_check_at > 0").Scan(&next)
	return store.FromMillis(next), err
}

// CheckSoon asks for an identity's DNS check to run now, in the background.
func (s *Service) CheckSoon(ctx context.Context, account, name string) {
	err := s.db.Write(ctx, func(tx *store.Tx) error { return schedule(tx, account, Normalize(name), store.Millis(s.now())) })
	if err == nil {
		s.wake()
	}
}

// finding is the outcome of looking for one record.
type finding struct {
	ok        bool
	temporary bool
	errType   string // HOST_NOT_FOUND, TYPE_NOT_FOUND, INVALID_VALUE, DNS_SERVER_ERROR
	detail    string
}

func lookupFailure(what string, err error) finding {
	switch {
	case errors.Is(err, dns.ErrNotFound):
		return finding{errType: "HOST_NOT_FOUND", detail: what + ": no such name"}
	case errors.Is(err, dns.ErrNoData):
		return finding{errType: "TYPE_NOT_FOUND", detail: what + ": no record of that type"}
	default:
		return finding{temporary: true, errType: "DNS_SERVER_ERROR", detail: what + ": " + err.Error()}
	}
}

// CheckNow looks up the identity's records now and records the outcome:
// DKIM status, verification status, MAIL FROM status, and which record is
// missing or wrong. It returns the updated identity.
func (s *Service) CheckNow(ctx context.Context, account, name string) (*Identity, error) {
	id, err := s.Get(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if id.Kind != Domain {
		err := s.db.Write(ctx, func(tx *store.Tx) error { return schedule(tx, account, id.Name, 0) })
		return id, err
	}
	var dkimF, txtF, mailF *finding
	if id.DKIM.Origin != "" {
		f := s.checkDKIM(ctx, id)
		dkimF = &f
	}
	if id.VerificationToken != "" {
		f := s.checkTXT(ctx, id)
		txtF = &f
	}
	if id.MailFrom.Domain != "" {
		f := s.checkMailFrom(ctx, id)
		mailF = &f
	}
	now := s.now().UTC()
	var out *Identity
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		cur, err := load(tx, account, id.Name)
		if err != nil || cur == nil {
			return err
		}
		// The identity may have changed while we looked; only apply
		// findings to the records we looked at.
		if dkimF != nil && strings.Join(cur.DKIM.Tokens, " ") != strings.Join(id.DKIM.Tokens, " ") {
			dkimF = nil
		}
		s.apply(cur, now, dkimF, txtF, mailF)
		if err := s.save(tx, cur); err != nil {
			return err
		}
		out = cur
		return schedule(tx, account, cur.Name, s.nextCheck(cur, now))
	})
	return out, err
}

// apply folds the findings into the identity's statuses.
func (s *Service) apply(id *Identity, now time.Time, dkimF, txtF, mailF *finding) {
	id.LastCheckedAt = now
	expired := !id.pendingSince.IsZero() && now.Sub(id.pendingSince) > s.cfg.GiveUp
	var problems []string
	var errType string
	temporary := false
	note := func(f *finding) {
		if f == nil || f.ok {
			return
		}
		problems = append(problems, f.detail)
		if errType == "" {
			errType = f.errType
		}
		temporary = temporary || f.temporary
	}
	status := func(prev Status, f *finding) Status {
		switch {
		case f.ok:
			return Success
		case prev == Success && now.Sub(id.LastSuccessAt) <= s.cfg.GiveUp:
			return Success // records gone: a grace period before failing, as SES
		case f.temporary:
			return TemporaryFailure
		case expired || prev == Success:
			return Failed
		}
		return Pending
	}
	verified := false
	if dkimF != nil {
		note(dkimF)
		id.DKIM.Status = status(id.DKIM.Status, dkimF)
		verified = verified || dkimF.ok
	}
	if txtF != nil {
		note(txtF)
		verified = verified || txtF.ok
	}
	if mailF != nil {
		note(mailF)
		id.MailFrom.Status = status(id.MailFrom.Status, mailF)
	}
	switch {
	case verified:
		id.Status = Success
		id.LastSuccessAt = now
		id.pendingSince = time.Time{}
	case id.Status == Success && now.Sub(id.LastSuccessAt) <= s.cfg.GiveUp:
	case temporary:
		id.Status = TemporaryFailure
	case expired || id.Status == Success:
		id.Status = Failed
	default:
		id.Status = Pending
	}
	id.ErrorType, id.ErrorDetail = errType, strings.Join(problems, "; ")
}

// nextCheck is the schedule: stop once failed, recheck verified identities
// slowly, look for pending records often at first.
func (s *Service) nextCheck(id *Identity, now time.Time) int64 {
	if id.Status == Failed && (id.MailFrom.Status == "" || id.MailFrom.Status == Failed || id.MailFrom.Status == Success) {
		return 0
	}
	pending := id.Status != Success || id.DKIM.Status == Pending || id.DKIM.Status == TemporaryFailure ||
		id.MailFrom.Status == Pending || id.MailFrom.Status == TemporaryFailure
	if !pending {
		return store.Millis(now.Add(s.cfg.Recheck))
	}
	since := id.pendingSince
	if since.IsZero() {
		since = id.CreatedAt
	}
	delay := max(s.cfg.FirstCheck, min(now.Sub(since), s.cfg.MaxCheckInterval))
	return store.Millis(now.Add(delay))
}

// checkDKIM looks for the Easy DKIM CNAMEs or the BYODKIM TXT record.
func (s *Service) checkDKIM(ctx context.Context, id *Identity) finding {
	if id.DKIM.Origin == OriginExternal {
		name := id.DKIM.Selector + "._domainkey." + id.Name
		key, err := s.byodkimRecord(id)
		if err != nil {
			return finding{errType: "INVALID_VALUE", detail: err.Error()}
		}
		txts, err := s.resolver.LookupTXT(ctx, name)
		if err != nil {
			return lookupFailure("TXT "+name, err)
		}
		for _, t := range txts {
			if dkimKeyOf(t) == dkimKeyOf(key) {
				return finding{ok: true}
			}
		}
		return finding{errType: "INVALID_VALUE", detail: fmt.Sprintf("TXT %s does not hold the public key of the BYODKIM private key", name)}
	}
	for _, t := range id.DKIM.Tokens {
		name := t + "._domainkey." + id.Name
		want := t + "." + s.cfg.Zone
		got, err := s.resolver.LookupCNAME(ctx, name)
		if err != nil {
			return lookupFailure("CNAME "+name, err)
		}
		if !strings.EqualFold(strings.TrimSuffix(got, "."), want) {
			return finding{errType: "INVALID_VALUE", detail: fmt.Sprintf("CNAME %s points to %s, want %s", name, got, want)}
		}
	}
	return finding{ok: true}
}

func (s *Service) byodkimRecord(id *Identity) (string, error) {
	keys, err := s.keysOf(context.Background(), id)
	if err != nil || len(keys) == 0 {
		return "", fmt.Errorf("BYODKIM key unusable: %v", err)
	}
	return mail.PublicKeyRecord(keys[0].Key.Public())
}

// dkimKeyOf returns the p= tag of a DKIM key record, without spaces.
func dkimKeyOf(rec string) string {
	for _, part := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.TrimSpace(k) == "p" {
			return strings.Join(strings.Fields(v), "")
		}
	}
	return ""
}

// checkTXT looks for the legacy _amazonses TXT token.
func (s *Service) checkTXT(ctx context.Context, id *Identity) finding {
	name := "_amazonses." + id.Name
	txts, err := s.resolver.LookupTXT(ctx, name)
	if err != nil {
		return lookupFailure("TXT "+name, err)
	}
	for _, t := range txts {
		if strings.TrimSpace(t) == id.VerificationToken {
			return finding{ok: true}
		}
	}
	return finding{errType: "INVALID_VALUE", detail: fmt.Sprintf("TXT %s does not hold the verification token %s", name, id.VerificationToken)}
}

// checkMailFrom wants exactly one MX on the MAIL FROM domain, pointing at
// this Sesame (as SES wants feedback-smtp.<region>.amazonses.com).
func (s *Service) checkMailFrom(ctx context.Context, id *Identity) finding {
	d := id.MailFrom.Domain
	mxs, err := s.resolver.LookupMX(ctx, d)
	if err != nil {
		return lookupFailure("MX "+d, err)
	}
	if len(mxs) != 1 {
		return finding{errType: "INVALID_VALUE", detail: fmt.Sprintf("MX %s: want exactly one record, found %d", d, len(mxs))}
	}
	if host := strings.TrimSuffix(strings.ToLower(mxs[0].Host), "."); host != s.cfg.Hostname {
		return finding{errType: "INVALID_VALUE", detail: fmt.Sprintf("MX %s points to %s, want %s", d, host, s.cfg.Hostname)}
	}
	return finding{ok: true}
}

// Close waits for Run to return (its context must be cancelled).
func (s *Service) Close() { s.wg.Wait() }
