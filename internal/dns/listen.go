package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	// udpReadSize is the largest query read over UDP. Queries are small;
	// this leaves room for EDNS options.
	udpReadSize = 4096
	// shutdownWait bounds how long Close waits for in-flight queries.
	shutdownWait = 5 * time.Second
	// bindTries bounds the search for a port free for both UDP and TCP when
	// the caller asks for port 0.
	bindTries = 16
)

// endpoint serves one handler over UDP and TCP on the same address, as DNS
// requires (RFC 7766 §5: TCP support is mandatory).
type endpoint struct {
	addr   string
	udp    *mdns.Server
	tcp    *mdns.Server
	wg     sync.WaitGroup
	onExit func(network string, err error) // a serve loop stopped with an error
}

// listenPair binds UDP and TCP on addr. With port 0 the two share the port
// the system gave UDP, trying again if TCP finds it taken.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: listen address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = bindTries
	}
	var lastErr error
	for range tries {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		udpPort := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort(host, udpPort))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("dns: listen tcp %s: %w", addr, lastErr)
}

// serve starts h on addr. On error nothing is left running or bound.
func serve(addr string, h mdns.Handler, onExit func(network string, err error)) (*endpoint, error) {
	pc, ln, err := listenPair(addr)
	if err != nil {
		return nil, err
	}
	e := &endpoint{
		addr:   pc.LocalAddr().String(),
		udp:    &mdns.Server{PacketConn: pc, Handler: h, UDPSize: udpReadSize},
		tcp:    &mdns.Server{Listener: ln, Handler: h},
		onExit: onExit,
	}
	if err := e.start("udp", e.udp); err != nil {
		pc.Close()
		ln.Close()
		return nil, err
	}
	if err := e.start("tcp", e.tcp); err != nil {
		ln.Close()
		_ = e.shutdown(e.udp)
		e.wg.Wait()
		return nil, err
	}
	return e, nil
}

// start runs srv and returns once it is serving, so that a later Shutdown
// cannot miss it.
func (e *endpoint) start(network string, srv *mdns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := srv.ActivateAndServe()
		select {
		case <-started:
			if err != nil && e.onExit != nil {
				e.onExit(network, err)
			}
		default:
			failed <- err
		}
	}()
	select {
	case <-started:
		return nil
	case err := <-failed:
		if err == nil {
			err = errors.New("server stopped before starting")
		}
		return fmt.Errorf("dns: serving %s on %s: %w", network, e.addr, err)
	}
}

func (e *endpoint) shutdown(srv *mdns.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	return srv.ShutdownContext(ctx)
}

// close stops both servers, waiting (boundedly) for queries in flight.
func (e *endpoint) close() error {
	err := errors.Join(e.shutdown(e.udp), e.shutdown(e.tcp))
	if err == nil {
		// Both serve loops have returned or are returning; without an
		// error there is nothing left that could block this.
		e.wg.Wait()
	}
	return err
}
