package feedback

import (
	"os"
	"path/filepath"
	"testing"
)

// seed adds every testdata message of dir to the corpus.
func seed(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseDSN: DSNs come from anyone who can reach the MX. The parser
// must not panic, and what it accepts must name a recipient.
func FuzzParseDSN(f *testing.F) {
	seed(f, "dsn")
	f.Add([]byte(dsn("Final-Recipient: rfc822; a@b\r\n Action: failed\r\nStatus: 5.1.1 (x\\)")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		d, err := ParseDSN(msg)
		if err != nil {
			return
		}
		if len(d.Recipients) == 0 {
			t.Fatal("a DSN without recipients was accepted")
		}
		for _, r := range d.Recipients {
			if len(r.Addresses()) == 0 {
				t.Fatalf("recipient without an address: %+v", r)
			}
			r.Classify()
		}
	})
}

// FuzzParseARF: feedback reports too; an accepted one has a type.
func FuzzParseARF(f *testing.F) {
	seed(f, "arf")
	f.Add([]byte(arf("Feedback-Type: abuse\r\nArrival-Date: (((\r\n")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ParseARF(msg)
		if err != nil {
			return
		}
		if r.FeedbackType == "" {
			t.Fatal("a report without a Feedback-Type was accepted")
		}
	})
}
