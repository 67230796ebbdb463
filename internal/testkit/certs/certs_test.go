package certs

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// A client trusting Pool completes a verified handshake with a server using
// TLS, by DNS name and by IP; a client without the pool is refused.
func TestSelfSignedHandshake(t *testing.T) {
	c := SelfSigned(t)
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if err := handshake(t, c, &tls.Config{RootCAs: c.Pool, ServerName: name}); err != nil {
			t.Errorf("verified handshake as %q: %v", name, err)
		}
	}
	if err := handshake(t, c, &tls.Config{ServerName: "localhost"}); err == nil {
		t.Error("handshake without the pool succeeded; want an unknown-authority error")
	}
	if err := handshake(t, c, &tls.Config{RootCAs: c.Pool, ServerName: "other.test"}); err == nil {
		t.Error("handshake for a name the certificate does not cover succeeded")
	}
}

func handshake(t *testing.T, c Cert, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_ = conn.(*tls.Conn).Handshake()
	}()
	defer func() { <-done }()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), client)
	if err != nil {
		return err
	}
	return conn.Close()
}
