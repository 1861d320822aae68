package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// benchLine matches a `go test -bench` result: name, iterations, ns/op.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// microRatios reads `go test -bench` output and prints each benchmark X as a
// ratio to its X_Baseline.
func (b *bench) microRatios(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ns := map[string]float64{}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		ns[m[1]] = v
		if !strings.HasSuffix(m[1], "_Baseline") {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no benchmarks in %s", path)
	}
	fmt.Println("\nmicro-benchmarks (go test -bench), each against its baseline in the same run:")
	for _, n := range names {
		base, ok := ns[n+"_Baseline"]
		if !ok {
			continue
		}
		b.add(n, fmt.Sprintf("%.2fx", ns[n]/base), "", fmt.Sprintf("%.0f ns/op vs %.0f ns/op (%s_Baseline)", ns[n], base, n))
	}
	return nil
}
