package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuStat is the machine's CPU time from the first line of /proc/stat, in
// ticks: busy (all but idle and iowait) and total.
type cpuStat struct{ busy, total int64 }

func machineCPU() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var s cpuStat
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		s.total += v
		if i != 3 && i != 4 { // idle, iowait
			s.busy += v
		}
	}
	return s
}

// busySince is the share of the machine's CPUs that were busy since s, as
// a percentage of all of them.
func busySince(s cpuStat) float64 {
	n := machineCPU()
	if n.total == s.total {
		return 0
	}
	return 100 * float64(n.busy-s.busy) / float64(n.total-s.total)
}

// descendantsCPU is the user+sys CPU time so far of the bench's running
// descendant processes (the XMPP server) but the gateway's.
func descendantsCPU(gateway int) time.Duration {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		parent[pid], _ = strconv.Atoi(f[1])
	}
	self := os.Getpid()
	var sum time.Duration
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == gateway || pid == gateway {
				break
			}
			if p == self {
				d, _ := procCPU(fmt.Sprintf("/proc/%d/stat", pid))
				sum += d
				break
			}
		}
	}
	return sum
}

func procCPU0() time.Duration {
	d, _ := procCPU("/proc/self/stat")
	return d
}
