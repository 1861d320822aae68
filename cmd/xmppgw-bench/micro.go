package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// benchLine matches a `go test -bench` result: name, iterations, ns/op, and
// the process's CPU a message if the benchmark reports it.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) cpu-ns/msg)?`)

// microRatios reads `go test -bench` output and prints each benchmark X as a
// ratio to its X_Baseline: of the CPU a message where both report it (the
// store's benchmarks, whose workers wait for commits, so that their wall
// time is mostly waiting), else of the wall time.
func (b *bench) microRatios(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ns, cpu := map[string]float64{}, map[string]float64{}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		ns[m[1]] = v
		if m[3] != "" {
			cpu[m[1]], _ = strconv.ParseFloat(m[3], 64)
		}
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
		if c, cb := cpu[n], cpu[n+"_Baseline"]; c > 0 && cb > 0 {
			b.add(n, fmt.Sprintf("%.2fx", c/cb), "", fmt.Sprintf("CPU %.0f ns/msg vs %.0f (%s_Baseline); wall %.0f ns/op vs %.0f", c, cb, n, ns[n], base))
			continue
		}
		b.add(n, fmt.Sprintf("%.2fx", ns[n]/base), "", fmt.Sprintf("%.0f ns/op vs %.0f ns/op (%s_Baseline)", ns[n], base, n))
	}
	return nil
}
