// Package bench holds Sesame's benchmarks: in-process Go benchmarks of the
// accept paths (SES v2 and v1 over HTTP, SMTP submission) and of delivery,
// each a whole Sesame driven through its real listeners, for profiling with
// -cpuprofile; the commands under cmd/ (load generator, durable ceiling,
// SMTP sink, DNS, set-up) and run.sh, which measure a real `sesame serve`.
// docs/PERFORMANCE.md has the figures and what stands in their way.
package bench
