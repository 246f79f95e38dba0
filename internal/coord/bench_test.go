package coord

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord/redistest"
)

// BenchmarkJournalPerDelivery is what the journal adds to one delivery on a loopback TCP
// Redis (AOF on, fsync every second, as most installations run it): Add before the 2xx,
// then Next and Done in a worker. It reports the p50 and p99 of Add (on the webhook's
// answer path) and of the whole round trip.
func BenchmarkJournalPerDelivery(b *testing.B) {
	rs := redistest.StartTCP(b, "--appendonly", "yes", "--appendfsync", "everysec")
	r, err := Open(context.Background(), config.Redis{URL: rs.URL()}, "bench", Timing{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	payload := make([]byte, 8<<10) // a typical issue_comment payload
	adds := make([]time.Duration, 0, b.N)
	trips := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := r.Add(ctx, Delivery{ID: fmt.Sprintf("bench-%d-%d", b.N, i), Event: "issue_comment", Payload: payload}); err != nil {
			b.Fatal(err)
		}
		adds = append(adds, time.Since(start))
		d, err := r.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Done(ctx, d); err != nil {
			b.Fatal(err)
		}
		trips = append(trips, time.Since(start))
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p float64) float64 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return float64(ds[int(float64(len(ds)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(adds, 0.5), "add-p50-ms")
	b.ReportMetric(pct(adds, 0.99), "add-p99-ms")
	b.ReportMetric(pct(trips, 0.5), "roundtrip-p50-ms")
	b.ReportMetric(pct(trips, 0.99), "roundtrip-p99-ms")
}
