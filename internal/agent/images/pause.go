package images

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
)

// PauseRef names the sandbox image navarch ships. Bump the tag whenever the
// program changes so that nodes re-import it.
const PauseRef = "navarch.io/pause:1"

// pauseBase is where the program is loaded; any page-aligned address in the
// user half works for a static, non-PIE executable.
const pauseBase = 0x400000

// pauseCode is the whole pause program for x86-64, hand-assembled:
//
//	lea  rsi, [rip+act]   ; struct sigaction {SIG_IGN, 0, 0, 0}
//	mov  edi, 17          ; SIGCHLD
//	xor  edx, edx         ; no old action
//	mov  r10d, 8          ; sizeof(sigset_t)
//	mov  eax, 13          ; rt_sigaction
//	syscall
//	loop: mov eax, 34     ; pause
//	syscall
//	jmp  loop
//	act: dq 1, 0, 0, 0
//
// Ignoring SIGCHLD makes the kernel reap children at once, so the pause
// process does its one job as PID 1 of a shared PID namespace (orphans
// reparented to it leave no zombies). It has no handler for SIGTERM: as
// PID 1 it ignores it, and the runtime stops sandboxes with SIGKILL.
var pauseCode = []byte{
	0x48, 0x8d, 0x35, 0x1d, 0x00, 0x00, 0x00, // lea rsi, [rip+29]
	0xbf, 0x11, 0x00, 0x00, 0x00, // mov edi, 17
	0x31, 0xd2, // xor edx, edx
	0x41, 0xba, 0x08, 0x00, 0x00, 0x00, // mov r10d, 8
	0xb8, 0x0d, 0x00, 0x00, 0x00, // mov eax, 13
	0x0f, 0x05, // syscall
	0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34
	0x0f, 0x05, // syscall
	0xeb, 0xf7, // jmp -9
	1, 0, 0, 0, 0, 0, 0, 0, // sa_handler = SIG_IGN
	0, 0, 0, 0, 0, 0, 0, 0, // sa_flags
	0, 0, 0, 0, 0, 0, 0, 0, // sa_restorer
	0, 0, 0, 0, 0, 0, 0, 0, // sa_mask
}

// PauseBinary returns the static pause executable for the running
// architecture: an ELF header, one loadable segment and the code above.
func PauseBinary() ([]byte, error) {
	if runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("the built-in pause image supports amd64 only, not %s: set a sandbox image that exists locally", runtime.GOARCH)
	}
	const ehSize, phSize = 64, 56
	total := uint64(ehSize + phSize + len(pauseCode))
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // ELF64, little endian, SysV
	w := func(v any) { _ = binary.Write(&b, le, v) }
	w(uint16(2))                           // ET_EXEC
	w(uint16(0x3e))                        // EM_X86_64
	w(uint32(1))                           // EV_CURRENT
	w(uint64(pauseBase + ehSize + phSize)) // entry
	w(uint64(ehSize))                      // program headers follow the ELF header
	w(uint64(0))                           // no section headers
	w(uint32(0))                           // flags
	w(uint16(ehSize))
	w(uint16(phSize))
	w(uint16(1)) // one program header
	w(uint16(0)) // section header size, count, string index
	w(uint16(0))
	w(uint16(0))
	// PT_LOAD of the whole file, read+execute.
	w(uint32(1))
	w(uint32(5))
	w(uint64(0))
	w(uint64(pauseBase))
	w(uint64(pauseBase))
	w(total)
	w(total)
	w(uint64(0x1000))
	b.Write(pauseCode)
	return b.Bytes(), nil
}
