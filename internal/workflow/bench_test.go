package workflow

import (
	"os"
	"testing"
)

// BenchmarkParseAndCheck is what a /run costs daytwo before it dispatches: reading the
// workflow file and checking the arguments.
func BenchmarkParseAndCheck(b *testing.B) {
	data, err := os.ReadFile("testdata/inputs.yml")
	if err != nil {
		b.Fatal(err)
	}
	args := []Arg{{"print_tags", "true"}, {"environment", "prod"}, {"logLevel", "debug"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w, err := Parse(".github/workflows/inputs.yml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Check(args, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
