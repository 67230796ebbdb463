package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/sesamehq/sesame/internal/auth/smtppass"
	"github.com/sesamehq/sesame/internal/smtp/submit"
	"github.com/sesamehq/sesame/internal/tlscert"
)

// smtpState is the SMTP submission interface (SES-BEHAVIOR §3) of a running
// App: its server and the certificate it presents.
type smtpState struct {
	srv   *submit.Server
	certs *tlscert.Source
}

// startSMTP binds the STARTTLS (SESAME_SMTP_ADDR) and implicit-TLS
// (SESAME_SMTPS_ADDR) listeners, "off" leaving one out. It needs the
// account and sending services; on error, closeSMTP releases what started.
func (a *App) startSMTP(ctx context.Context) error {
	cfg := &a.cfg
	on := func(addr string) bool { return addr != "" && addr != "off" }
	if !on(cfg.SMTPAddr) && !on(cfg.SMTPSAddr) {
		return nil
	}
	certs, err := tlscert.Load(tlscert.Options{
		CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
		Dir:    filepath.Join(cfg.DataDir, "tls"),
		Hosts:  certHosts(cfg.Hostname, cfg.SMTPAddr, cfg.SMTPSAddr),
		Logger: a.log.With("component", "tls"),
	})
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	srv, err := submit.New(submit.Config{
		Hostname: cfg.Hostname,
		Region:   cfg.Region,
		TLS:      certs.TLSConfig(),
		Keys:     a.Accounts,
		Sender:   a.Sending,
		Logger:   a.log.With("component", "smtp"),
	})
	if err != nil {
		return err
	}
	a.smtp = smtpState{srv: srv, certs: certs}
	if err := srv.Listen(submit.STARTTLS, cfg.SMTPAddr); err != nil {
		return err
	}
	return srv.Listen(submit.ImplicitTLS, cfg.SMTPSAddr)
}

// closeSMTP stops the SMTP listeners, letting messages in flight be
// answered first. Call it before the store closes.
func (a *App) closeSMTP() error {
	if a.smtp.srv == nil {
		return nil
	}
	return a.smtp.srv.Close()
}

// SMTPAddrs are the bound SMTP submission addresses, "" for one not served.
func (a *App) SMTPAddrs() (starttls, tls string) {
	if a.smtp.srv == nil {
		return "", ""
	}
	return a.smtp.srv.Addr(submit.STARTTLS), a.smtp.srv.Addr(submit.ImplicitTLS)
}

// SMTPCertFile is the PEM file of the certificate the SMTP listeners present
// (the self-signed one in the data directory unless --tls-cert was given),
// for clients that must be told to trust it; "" when SMTP is off.
func (a *App) SMTPCertFile() string {
	if a.smtp.certs == nil {
		return ""
	}
	return a.smtp.certs.CertFile()
}

// SMTPCredentials returns the SMTP user name and password of an access key,
// as SES derives them for the served region (SES-BEHAVIOR §3.3).
func (a *App) SMTPCredentials(ctx context.Context, accessKeyID string) (user, password string, err error) {
	if a.Accounts == nil {
		return "", "", errors.New("app: not started")
	}
	k, err := a.Accounts.LookupKey(ctx, accessKeyID)
	if err != nil {
		return "", "", fmt.Errorf("access key %s: %w", accessKeyID, err)
	}
	return k.ID, smtppass.V4(k.Secret, a.cfg.Region), nil
}

// certHosts are the names a self-signed certificate covers: the host name,
// loopback, and any specific address the listeners bind.
func certHosts(hostname string, addrs ...string) []string {
	var hosts []string
	seen := map[string]bool{"": true}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	for _, h := range []string{hostname, "localhost", "127.0.0.1", "::1"} {
		add(h)
	}
	for _, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			continue
		}
		add(host)
	}
	return hosts
}
