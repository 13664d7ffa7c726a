// Package sysmem says how much memory a computation may use, so that a request too large for
// the machine is refused in one line before anything is allocated, instead of ending in an
// out-of-memory crash hours later.
package sysmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Fallback is assumed where the available memory cannot be read (no /proc/meminfo).
const Fallback = 8 << 30

// Available returns 80% of the memory the kernel reports as available (MemAvailable), or
// Fallback when that cannot be read.
func Available() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return Fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				break
			}
			return kb * 1024 / 10 * 8
		}
	}
	return Fallback
}

// GiB formats a byte count in GiB for messages.
func GiB(b float64) string { return fmt.Sprintf("%.3g GiB", b/(1<<30)) }
