package delivery

import (
	"github.com/sesamehq/sesame/internal/metrics"
	"github.com/sesamehq/sesame/internal/queue"
)

// counters are the worker's figures at /metrics.
type counters struct {
	outcomes  *metrics.Counter // recipients by outcome of an attempt
	givenBack *metrics.Counter // recipients claimed and given back untried
	suspended *metrics.Counter // destinations suspended as unreachable
}

// Instrument makes the worker count what it does in r. Call it before Run.
func (w *Worker) Instrument(r *metrics.Registry) {
	w.counters = &counters{
		outcomes: r.Counter("sesame_delivery_recipients_total",
			"Recipients by the outcome of a delivery attempt: delivered, deferred (to retry), bounced, captured (--dev)."),
		givenBack: r.Counter("sesame_delivery_given_back_total",
			"Recipients claimed from the queue and given back untried: their destination's lane was full, they waited too long, or the worker stopped."),
		suspended: r.Counter("sesame_delivery_suspensions_total",
			"Times a destination was suspended because its deliveries reached no server."),
	}
}

var outcomeLabels = map[string]map[string]string{
	queue.Delivered: {"outcome": "delivered"},
	queue.Queued:    {"outcome": "deferred"},
	queue.Bounced:   {"outcome": "bounced"},
	queue.Captured:  {"outcome": "captured"},
}

func (c *counters) recorded(results []queue.Result) {
	if c == nil {
		return
	}
	for _, r := range results {
		if l := outcomeLabels[r.State]; l != nil {
			c.outcomes.Inc(l)
		}
	}
}

func (c *counters) gaveBack(n int) {
	if c != nil {
		c.givenBack.Add(nil, float64(n))
	}
}

func (c *counters) suspension() {
	if c != nil {
		c.suspended.Inc(nil)
	}
}
