package usage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat (sysconf(_SC_CLK_TCK)),
// 100 on every Linux architecture Go runs on.
const clockTicks = 100

// resetHighWater sets the process's VmHWM back to its current VmRSS.
func resetHighWater(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// statusField reads one "Name:  N kB" line of /proc/PID/status, in bytes.
func statusField(pid int, name string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(name))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("pid %d: unexpected %s line %q", pid, name, sc.Text())
		}
		kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("pid %d: %s: %w", pid, name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("pid %d: no %s in status", pid, name)
}

// cpuSeconds reads the user and system time of a process from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(raw)
}

// parseStat takes utime and stime, the 14th and 15th fields, from a stat line. The
// second field, the command name, may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(line []byte) (float64, error) {
	end := bytes.LastIndexByte(line, ')')
	if end < 0 {
		return 0, fmt.Errorf("stat %q: no command name", line)
	}
	fields := bytes.Fields(line[end+1:]) // from the 3rd field, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("stat %q: too few fields", line)
	}
	var ticks int64
	for _, f := range [][]byte{fields[utime], fields[stime]} {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: CPU time %q: %w", f, err)
		}
		ticks += n
	}
	return float64(ticks) / clockTicks, nil
}
