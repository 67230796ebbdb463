package transport

import (
	"io"
	"net"
	"strings"

	"github.com/emersion/go-smtp"
)

// standInGreeting is what the go-smtp client reads as the server's greeting.
const standInGreeting = "220 greeting already read\r\n"

// greetedConn hands go-smtp a connection whose greeting has been dealt with.
// go-smtp's Client reads a 220 greeting before anything else, but the
// session has already read the real one (to bound it by its own deadline and
// tell a refusal from a later failure), and after STARTTLS there is none: the
// session restarts as if just greeted (RFC 3207 §4.2). Reads yield a stand-in
// greeting, then r; writes, deadlines and Close go to the connection.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (c *greetedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// newClient returns a go-smtp client over conn, reading the server's replies
// from r (conn itself, or a buffered reader already reading it).
func newClient(conn net.Conn, r io.Reader) *smtp.Client {
	return smtp.NewClient(&greetedConn{
		Conn: conn,
		r:    io.MultiReader(strings.NewReader(standInGreeting), r),
	})
}
