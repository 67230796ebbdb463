package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// reply is an SMTP reply, or a locally made stand-in for one (code 0).
type reply struct {
	outcome  Outcome
	code     int
	enhanced string
	text     string // Result.Text
}

// peer is the server a session talked to; zero when none was reached.
type peer struct {
	host, ip string
	tls      bool
}

func (r reply) result(p peer) Result {
	return Result{
		Outcome:   r.outcome,
		Code:      r.code,
		Enhanced:  r.enhanced,
		Text:      r.text,
		RemoteMTA: p.host,
		RemoteIP:  p.ip,
		TLS:       p.tls,
	}
}

// outcomeOf maps a reply code to an outcome (RFC 5321 §4.2.1): 2yz done,
// 5yz permanent, anything else (4yz, or a code out of place) worth a retry.
// The basic code decides; an enhanced code's class is advisory (RFC 3463 §2).
func outcomeOf(code int) Outcome {
	switch code / 100 {
	case 2:
		return Delivered
	case 5:
		return Permanent
	}
	return Transient
}

// serverReply builds a reply from a code and the text after it, taking a
// leading enhanced status code (RFC 2034 §4) out of the text. Lines of a
// multi-line reply arrive joined by "\n" and are joined by spaces.
func serverReply(code int, msg string) reply {
	r := reply{outcome: outcomeOf(code), code: code}
	lines := strings.Split(msg, "\n")
	if enh, rest, ok := cutEnhanced(lines[0], code); ok {
		r.enhanced = enh
		lines[0] = rest
		// RFC 2034: the enhanced code starts every line; say it once.
		for i := 1; i < len(lines); i++ {
			lines[i] = strings.TrimPrefix(lines[i], enh+" ")
		}
	}
	r.text = formatReply(code, r.enhanced, strings.Join(lines, " "))
	return r
}

func formatReply(code int, enhanced, msg string) string {
	parts := []string{strconv.Itoa(code)}
	if enhanced != "" {
		parts = append(parts, enhanced)
	}
	if msg = strings.TrimSpace(msg); msg != "" {
		parts = append(parts, msg)
	}
	return strings.Join(parts, " ")
}

// cutEnhanced splits "5.1.1 rest" into "5.1.1" and "rest" when the line starts
// with an enhanced status code of the reply's class (RFC 3463 §2:
// class "." subject "." detail, class 2, 4 or 5, subject 1-3 digits, detail
// 1-3 digits).
func cutEnhanced(line string, code int) (enh, rest string, ok bool) {
	word, rest, _ := strings.Cut(line, " ")
	parts := strings.Split(word, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(code/100) {
		return "", line, false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 {
			return "", line, false
		}
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return "", line, false
			}
		}
	}
	return word, rest, true
}

// local is a failure found without a server reply to quote.
func local(outcome Outcome, enhanced, format string, args ...any) reply {
	return reply{outcome: outcome, enhanced: enhanced, text: fmt.Sprintf(format, args...)}
}

// interruption is the Transient reply for recipients left when ctx ended:
// 4.4.7 (delivery time expired, RFC 3463) for a deadline, 4.3.0 otherwise.
func interruption(ctx context.Context) reply {
	enh := "4.3.0"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		enh = "4.4.7"
	}
	return local(Transient, enh, "delivery interrupted: %v", context.Cause(ctx))
}

// maxReplyLines bounds a multi-line reply read by readReply.
const maxReplyLines = 100

// readReply reads one reply (RFC 5321 §4.2) from br with bounded memory: a
// line longer than br's buffer, or more than maxReplyLines lines, is an
// error, so a hostile server cannot make the session buffer without end.
// Lines of a multi-line reply are joined by "\n", as in net/textproto.
func readReply(br *bufio.Reader) (code int, msg string, err error) {
	var lines []string
	for range maxReplyLines {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return 0, "", errors.New("reply line too long")
		}
		if err != nil {
			return 0, "", err
		}
		line := strings.TrimRight(string(raw), "\r\n")
		c, err := strconv.Atoi(line[:min(3, len(line))])
		switch {
		case err != nil || len(line) < 3 || c < 100 || c > 599:
			return 0, "", fmt.Errorf("malformed reply line %q", line)
		case len(lines) > 0 && c != code:
			return 0, "", fmt.Errorf("reply line %q continues a %d reply", line, code)
		case len(line) > 3 && line[3] != ' ' && line[3] != '-':
			return 0, "", fmt.Errorf("malformed reply line %q", line)
		}
		code = c
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		lines = append(lines, text)
		if len(line) == 3 || line[3] == ' ' {
			return code, strings.Join(lines, "\n"), nil
		}
	}
	return 0, "", fmt.Errorf("reply longer than %d lines", maxReplyLines)
}
