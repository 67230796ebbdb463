package smtpsink

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// session is one SMTP session as go-smtp sees it: it starts at EHLO/HELO and,
// after STARTTLS, starts again over TLS (RFC 3207 §4.2).
type session struct {
	sink *Sink
	helo string
	tls  bool
	from string
	to   []string
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	if err := s.script(StageHelo, c.Hostname()); err != nil {
		return nil, err
	}
	_, isTLS := c.TLSConnectionState()
	return &session{sink: s, helo: c.Hostname(), tls: isTLS}, nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.sink.count(func(st *Stats) { st.Mails++ })
	if err := ss.sink.script(StageMail, from); err != nil {
		return err
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.count(func(st *Stats) { st.Rcpts++ })
	if err := ss.sink.script(StageRcpt, to); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r) // ErrDataTooLarge (552 5.3.4) past MaxMessageBytes
	if err != nil {
		return err
	}
	if err := ss.sink.script(StageData, string(data)); err != nil {
		return err
	}
	ss.sink.record(Received{
		From: ss.from,
		To:   append([]string(nil), ss.to...),
		Data: data,
		TLS:  ss.tls,
		Helo: ss.helo,
		At:   time.Now(),
	})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// listener sits between the TCP listener and go-smtp to play the parts
// go-smtp's server cannot: a scripted reply in place of the greeting
// (StageConnect) and a server that never greets (WithNeverAnswer).
type listener struct {
	net.Listener
	sink *Sink

	mu   sync.Mutex
	held []net.Conn // silent connections, closed at cleanup
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.sink.count(func(st *Stats) {
			st.Conns++
			st.Open++
			st.MaxOpen = max(st.MaxOpen, st.Open)
		})
		c = &countedConn{Conn: c, sink: l.sink}
		if l.sink.cfg.neverAnswer {
			l.mu.Lock()
			l.held = append(l.held, c)
			l.mu.Unlock()
			// Say nothing, but notice when the client hangs up.
			go func() {
				_, _ = io.Copy(io.Discard, c)
				_ = c.Close()
			}()
			continue
		}
		if err := l.sink.cfg.scriptConnect(c.RemoteAddr().String()); err != nil {
			// RFC 5321 §3.1: a server may refuse service with a 554 (or
			// 421) reply in place of the 220 greeting.
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, replyLine(err))
			_ = c.Close()
			continue
		}
		return c, nil
	}
}

// countedConn keeps Stats.Open: it counts itself closed once, whoever
// closes it.
type countedConn struct {
	net.Conn
	sink *Sink
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.sink.count(func(st *Stats) { st.Open-- }) })
	return c.Conn.Close()
}

func (l *listener) closeHeld() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.held {
		_ = c.Close()
	}
	l.held = nil
}

func (c config) scriptConnect(addr string) *smtp.SMTPError {
	if c.script == nil {
		return nil
	}
	return c.script(StageConnect, addr)
}

// replyLine renders err as one reply line, with its enhanced status code
// when it has one (RFC 2034).
func replyLine(err *smtp.SMTPError) string {
	if ec := err.EnhancedCode; ec[0] > 0 {
		return fmt.Sprintf("%d %d.%d.%d %s\r\n", err.Code, ec[0], ec[1], ec[2], err.Message)
	}
	return fmt.Sprintf("%d %s\r\n", err.Code, err.Message)
}
