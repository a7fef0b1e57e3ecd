package config

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseStatic is one reload of a static config of 1,000 services
// with 10 endpoints each: the cost of every change through the static source.
func BenchmarkParseStatic(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"services":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"serviceName":"svc-%d","namespace":"bench","zone":"z","region":"r","port":50051,"healthCheck":false,"endpoints":[`, i)
		for j := range 10 {
			if j > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `"[fd00::%x:%x:0:%x]:50051"`, i, j, i*7+j)
		}
		sb.WriteString("]}")
	}
	sb.WriteString("]}")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("c.json", data, ModeStatic); err != nil {
			b.Fatal(err)
		}
	}
}
