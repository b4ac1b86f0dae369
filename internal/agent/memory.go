package agent

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releaseBinaryPages unmaps the executable's read-only pages from this
// process (MADV_DONTNEED on its private, unmodified file mappings).
// navarch is one 100 MB binary: initialising all of its packages touches
// most of its text, and the kernel's fault-around maps even more, though
// the agent runs a small part of it. The pages stay in the page cache,
// shared with other navarch processes; the ones the agent uses fault back
// in (minor faults). This changes what RSS counts, not what the machine
// holds in memory.
func releaseBinaryPages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != exe || strings.Contains(f[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
