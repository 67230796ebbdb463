package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/sesamehq/sesame/internal/smtp/mx"
	"github.com/sesamehq/sesame/internal/tlscert"
)

// mxState is the inbound MX of a running App.
type mxState struct{ srv *mx.Server }

// startMX binds the inbound MX for bounces and complaints (SESAME_MX_ADDR;
// "off" serves none). It needs the queue and identities, and reuses the
// SMTP submission certificate for STARTTLS when that is loaded, so start
// it after startSMTP. On error, closeMX releases what started.
func (a *App) startMX(ctx context.Context) error {
	cfg := &a.cfg
	if cfg.MXAddr == "" || cfg.MXAddr == "off" {
		return nil
	}
	certs := a.smtp.certs
	if certs == nil {
		var err error
		certs, err = tlscert.Load(tlscert.Options{
			CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
			Dir:    filepath.Join(cfg.DataDir, "tls"),
			Hosts:  certHosts(cfg.Hostname, cfg.MXAddr),
			Logger: a.log.With("component", "tls"),
		})
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
	}
	srv, err := mx.New(mx.Config{
		Hostname:   cfg.Hostname,
		TLS:        certs.TLSConfig(),
		Messages:   a.Queue,
		Identities: a.Identities,
		Recorder:   a.Queue,
		Logger:     a.log.With("component", "mx"),
	})
	if err != nil {
		return err
	}
	a.mx.srv = srv
	return srv.Listen(cfg.MXAddr)
}

// closeMX stops the MX, letting messages in flight be answered first. Call
// it before the store closes.
func (a *App) closeMX() error {
	if a.mx.srv == nil {
		return nil
	}
	return a.mx.srv.Close()
}

// MXAddr is the bound address of the inbound MX, "" when it is off.
func (a *App) MXAddr() string {
	if a.mx.srv == nil {
		return ""
	}
	return a.mx.srv.Addr()
}
