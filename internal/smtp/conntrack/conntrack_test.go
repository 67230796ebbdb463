package conntrack

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// pipeConn returns the server side of a loopback TCP connection.
func pipeConn(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return s, c
}

func TestCapAndHangUp(t *testing.T) {
	set := NewSet(1)
	s1, c1 := pipeConn(t)
	tc, ok := set.Add(s1)
	if !ok || set.Count() != 1 {
		t.Fatal("first connection refused")
	}
	s2, _ := pipeConn(t)
	if _, ok := set.Add(s2); ok {
		t.Fatal("connection over the cap admitted")
	}
	tc.HangUpAfterReply()
	if _, err := tc.Write([]byte("421 bye\r\n")); err != nil {
		t.Fatal(err)
	}
	c1.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, _ := io.ReadAll(c1) // ends when the server side closes
	if string(got) != "421 bye\r\n" || set.Count() != 0 {
		t.Fatalf("after hang-up: read %q, %d tracked", got, set.Count())
	}
	if _, ok := Of(tc); !ok {
		t.Fatal("Of does not find the tracked connection")
	}
}

type fakeServer struct {
	wait func()
}

func (f fakeServer) Shutdown(context.Context) error { f.wait(); return nil }

// A busy connection delays the drain until its transaction ends; an idle
// one closes at once. If the grace runs out, abort runs and all close.
func TestDrain(t *testing.T) {
	set := NewSet(10)
	idle, _ := pipeConn(t)
	busy, _ := pipeConn(t)
	ti, _ := set.Add(idle)
	tb, _ := set.Add(busy)
	if !tb.Begin() {
		t.Fatal("Begin refused before shutdown")
	}
	var once sync.Once
	done := make(chan struct{})
	srv := fakeServer{wait: func() {
		for set.Count() > 0 {
			time.Sleep(time.Millisecond)
		}
		once.Do(func() { close(done) })
	}}
	result := make(chan bool, 1)
	go func() {
		forced, _ := set.Drain(context.Background(), srv, func() { t.Error("abort called on a graceful drain") })
		result <- forced
	}()
	deadline := time.Now().Add(2 * time.Second)
	for !ti.isClosed() {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not closed by the drain")
		}
		time.Sleep(time.Millisecond)
	}
	if tb.isClosed() {
		t.Fatal("busy connection closed before its transaction ended")
	}
	if !set.Closing() {
		t.Fatal("set not closing during the drain")
	}
	tb.End()
	if forced := <-result; forced {
		t.Fatal("graceful drain reported forced")
	}

	// Grace over: abort, everything closed.
	set2 := NewSet(10)
	b2, _ := pipeConn(t)
	tb2, _ := set2.Add(b2)
	tb2.Begin()
	aborted := false
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	forced, _ := set2.Drain(ctx, fakeServer{wait: func() {
		for set2.Count() > 0 {
			time.Sleep(time.Millisecond)
		}
	}}, func() { aborted = true })
	if !forced || !aborted || !tb2.isClosed() {
		t.Fatalf("forced=%v aborted=%v closed=%v", forced, aborted, tb2.isClosed())
	}
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
