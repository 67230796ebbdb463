package smtpload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestErrorCodes(t *testing.T) {
	cases := []struct {
		err   *Error
		code  string
		fatal bool
	}{
		{&Error{Step: "RCPT", Err: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not verified"}}, "RCPT 554 5.7.1", false},
		{&Error{Step: "MAIL", Err: &smtp.SMTPError{Code: 421, EnhancedCode: smtp.NoEnhancedCode, Message: "bye"}}, "MAIL 421", true},
		{&Error{Step: "end of DATA", Err: &smtp.SMTPError{Code: 451, Message: "try later"}}, "end of DATA 451", false},
		{&Error{Step: "connect", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}, "connect: connection refused", true},
		{&Error{Step: "DATA", Err: io.EOF}, "DATA: EOF", true},
		{&Error{Step: "AUTH", Err: fmt.Errorf("wrapped: %w", context.DeadlineExceeded)}, "AUTH: timeout", true},
		{&Error{Step: "MAIL", Err: net.ErrClosed}, "MAIL: connection closed", true},
	}
	for _, c := range cases {
		if got := c.err.Code(); got != c.code {
			t.Errorf("%v: code %q, want %q", c.err, got, c.code)
		}
		if got := c.err.Fatal(); got != c.fatal {
			t.Errorf("%v: fatal %v, want %v", c.err, got, c.fatal)
		}
		if !errors.Is(c.err, c.err.Err) {
			t.Errorf("%v does not unwrap", c.err)
		}
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Dial(context.Background(), Config{Addr: addr})
	var e *Error
	if !errors.As(err, &e) || e.Code() != "connect: connection refused" {
		t.Fatalf("dial to a closed port: %v", err)
	}
}
