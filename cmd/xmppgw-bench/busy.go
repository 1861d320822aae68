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

// selfCPU is the bench process's own user+sys CPU time so far: its
// clients and fakes.
func selfCPU() time.Duration {
	d, _ := procCPU("/proc/self/stat")
	return d
}

// cpuSample is the CPU time so far of the gateway, of the bench itself (its
// clients and fakes), of the XMPP server, and of the machine, and the
// gateway's heap allocations so far.
type cpuSample struct {
	gateway, bench, server time.Duration
	machine                cpuStat
	allocs                 allocs
}

func (e *env) sampleCPU() cpuSample {
	if e.proc == nil { // stopped: every child is the server's
		return cpuSample{bench: selfCPU(), server: descendantsCPU(-1), machine: machineCPU()}
	}
	gw, _ := e.cpuTime()
	return cpuSample{gateway: gw, bench: selfCPU(), server: descendantsCPU(e.proc.Pid()), machine: machineCPU(),
		allocs: e.allocs()}
}

// perMsg describes the CPU used since s, a message of n: the gateway's, the
// bench's and the server's, and how busy the machine was.
func (s cpuSample) perMsg(e *env, n int) string {
	now := e.sampleCPU()
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	out := fmt.Sprintf("gateway %.0f us a message; bench %.0f; server %.0f; machine %.0f%% busy",
		us(now.gateway-s.gateway), us(now.bench-s.bench), us(now.server-s.server), busySince(s.machine))
	if now.allocs.objects-s.allocs.objects >= float64(n) { // a phase the gateway worked in
		out += fmt.Sprintf("; gateway allocations %.0f (%.1f KiB) a message",
			(now.allocs.objects-s.allocs.objects)/float64(n), (now.allocs.bytes-s.allocs.bytes)/1024/float64(n))
	}
	return out
}
