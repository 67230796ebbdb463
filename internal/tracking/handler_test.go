package tracking

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func testHandler(t *testing.T, record func(context.Context, Event) error) (*Handler, *httptest.Server) {
	t.Helper()
	h := NewHandler(testSigner(t), record, func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t/open/{token}", h.Open)
	mux.HandleFunc("GET /t/click/{token}", h.Click)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h, srv
}

var noRedirect = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u, ua string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestHandlerClickAndOpen(t *testing.T) {
	events := make(chan Event, 10)
	_, srv := testHandler(t, func(_ context.Context, e Event) error { events <- e; return nil })
	s := testSigner(t)
	link := Link{URL: "https://例え.jp/パス?q=a b&r=1#frag", Tags: []Tag{{"k", "v"}}}
	resp := get(t, srv.URL+ClickPath+s.ClickToken("m1", link), "Test/1")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if want := "https://%E4%BE%8B%E3%81%88.jp/%E3%83%91%E3%82%B9?q=a%20b&r=1#frag"; loc != want {
		t.Errorf("Location = %s, want %s", loc, want)
	}
	if u, err := url.Parse(loc); err != nil || u.Host != "例え.jp" || u.Path != "/パス" || u.Query().Get("q") != "a b" || u.Fragment != "frag" {
		t.Errorf("Location does not read back as the link: %v %v", u, err)
	}
	select {
	case e := <-events:
		if e.Kind != KindClick || e.MessageID != "m1" || e.Link.URL != link.URL || e.UserAgent != "Test/1" || e.IPAddress != "127.0.0.1" ||
			!e.At.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || len(e.Link.Tags) != 1 {
			t.Errorf("click event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no click event")
	}

	resp = get(t, srv.URL+OpenPath+s.OpenToken("m1"), "Mail/2")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("pixel: %d %v", resp.StatusCode, resp.Header)
	}
	select {
	case e := <-events:
		if e.Kind != KindOpen || e.MessageID != "m1" || e.UserAgent != "Mail/2" {
			t.Errorf("open event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no open event")
	}
}

func TestHandlerRefusesBadTokens(t *testing.T) {
	events := make(chan Event, 10)
	_, srv := testHandler(t, func(_ context.Context, e Event) error { events <- e; return nil })
	s := testSigner(t)
	click, open := s.ClickToken("m1", Link{URL: "https://example.com/"}), s.OpenToken("m1")
	for _, p := range []string{
		ClickPath + click[:len(click)-2] + "AA", OpenPath + open[:len(open)-2] + "AA",
		ClickPath + open, OpenPath + click, // the wrong kind
		ClickPath + "garbage", OpenPath + "x",
	} {
		if resp := get(t, srv.URL+p, "x"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	select {
	case e := <-events:
		t.Errorf("event recorded for a bad token: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestHandlerSlowStorage: a click redirects at once even while recording
// is stuck.
func TestHandlerSlowStorage(t *testing.T) {
	release := make(chan struct{})
	recorded := make(chan Event, 10)
	_, srv := testHandler(t, func(ctx context.Context, e Event) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		recorded <- e
		return nil
	})
	s := testSigner(t)
	start := time.Now()
	for i := range 3 {
		if resp := get(t, srv.URL+ClickPath+s.ClickToken("m1", Link{URL: "https://example.com/"}), "x"); resp.StatusCode != http.StatusFound {
			t.Fatalf("click %d: %d", i, resp.StatusCode)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("redirects took %v while storage was stuck", d)
	}
	close(release)
	for i := range 3 {
		select {
		case <-recorded:
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d not recorded once storage recovered", i)
		}
	}
}
