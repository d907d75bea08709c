#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of fuzz/corpus/<target>/ (seed-*).

The ELF corpus also holds stripped guest images (objcopy --strip-debug of build/guests/*.elf);
crash regressions are named regress-*. Re-running this script rewrites only the seed-* files.
Each seed follows the input format documented at the top of its fuzz_<target>.c.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


def q(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


# ---- elf: a minimal ET_EXEC with a PT_LOAD, the hvrun policy note and a .hvci section ----
def mini_elf(policy=True, hvci=True, entry=0x100000, note_flags=1, extra_load=False):
    ehsize, phsize, shsize = 64, 56, 64
    phnum = 2 + (1 if extra_load else 0)
    note = struct.pack('<III', 6, 16, 1) + b'hvrun\0\0\0' + struct.pack('<IIQ', 1, note_flags, 0)
    shstr = b'\0.shstrtab\0.hvci\0.text\0'
    code_off = 0x1000
    code = b'\xe6\xf4' + b'\x90' * 14          # out %al,$0xf4
    note_off = ehsize + phsize * phnum
    shstr_off = note_off + len(note)
    shoff = (shstr_off + len(shstr) + 7) & ~7
    shnum = 4 if hvci else 3
    phdrs = struct.pack('<IIQQQQQQ', 1, 7, code_off, 0x100000, 0x100000, 0x2000, 0x3000, 0x1000)
    phdrs += struct.pack('<IIQQQQQQ', 4, 4, note_off, 0x100800, 0x100800, len(note) if policy else 0,
                         len(note) if policy else 0, 4)
    if extra_load:
        phdrs += struct.pack('<IIQQQQQQ', 1, 6, code_off, 0x200000, 0x200000, 0x10, 0x1000, 0x1000)
    ehdr = b'\x7fELF' + bytes([2, 1, 1, 0]) + b'\0' * 8
    ehdr += struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, ehsize, shoff, 0, ehsize, phsize, phnum,
                        shsize, shnum, 1)
    sh = b'\0' * 64
    sh += struct.pack('<IIQQQQIIQQ', 1, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    sh += struct.pack('<IIQQQQIIQQ', 17, 1, 6, 0x100000, code_off, 0x1000, 0, 0, 16, 0)
    if hvci:
        sh += struct.pack('<IIQQQQIIQQ', 11, 1, 2, 0x101000, code_off + 0x1000, 0x1000, 0, 0, 4096, 0)
    img = ehdr + phdrs + note + shstr
    img += b'\0' * (shoff - len(img)) + sh
    img += b'\0' * (code_off - len(img)) + code
    img += b'\0' * (code_off + 0x2000 - len(img))
    return img


out('elf', 'mini', mini_elf())
out('elf', 'mini-nopolicy', mini_elf(policy=False, hvci=False))
out('elf', 'mini-badflags', mini_elf(note_flags=0x80))
out('elf', 'mini-twoload', mini_elf(extra_load=True))
out('elf', 'mini-badentry', mini_elf(entry=0x1ff000))

# ---- config ----
cfg = {
    'two': b"\0# two partitions and a connection\n[partition a]\nimage = a.elf\nmemory = 64M\nsmp = 2\n"
           b"cmdline = x=1\nsecure-kernel = none\n\n[partition b]\nimage = b.elf\nvtl1-memory = 32M\n"
           b"secure-kernel = default\n[connection 5]\nfrom = a\nto = b\nsint = 3\nvp = 0\nflag = 12\n",
    'sk-default': b"\1[partition x]\nimage=/x.elf\nsecure-kernel=default\n; comment\n",
    'sk-path': b"\0[partition x]\nimage=/x.elf\nsecure-kernel=/sk.elf\nmemory=0x400000\n",
    'errors': b"\0[partition]\n",
    'conn-bad': b"\0[partition a]\nimage=a\n[connection 0]\nfrom=a\n",
}
for k, v in cfg.items():
    out('config', k, v)

# ---- msr: header {flags, drop mask16, vp, ram pages16, private flags, private pages, ref_time...}
MSR = dict(GUEST_OS_ID=0, HYPERCALL=1, VP_INDEX=2, RESET=3, TIME_REF=5, REF_TSC=6, TSC_FREQ=7,
           APIC_FREQ=8, VP_ASSIST=12, SCONTROL=13, SVERSION=14, SIEFP=15, SIMP=16, EOM=17, SINT0=19,
           SINT1=20)


def msr_op(write, msr, value, idx=0):
    return bytes([1 if write else 0, MSR[msr] if isinstance(msr, str) else msr]) + struct.pack('<H', idx) + q(value)


hdr = bytes([1, 0, 0, 0, 0x00, 0x04, 1, 15]) + q(123456789)     # 4 MiB RAM, 16 private pages
ops = [msr_op(1, 'GUEST_OS_ID', 0x8100000000000001), msr_op(1, 'HYPERCALL', 0x5001),
       msr_op(0, 'HYPERCALL', 0), msr_op(1, 'HYPERCALL', 0x5003), msr_op(1, 'HYPERCALL', 0x6001),
       msr_op(1, 'GUEST_OS_ID', 0), msr_op(0, 'VP_INDEX', 0), msr_op(1, 'SIMP', 0xC0001001),
       msr_op(1, 'SIEFP', 0x3ff001), msr_op(1, 'SINT0', 0x10030), msr_op(1, 'SINT1', 0x5),
       msr_op(1, 'EOM', 0), msr_op(1, 'VP_ASSIST', 0x1001), msr_op(1, 'REF_TSC', 0xFFFFF001),
       msr_op(0, 'TIME_REF', 0), msr_op(0, 'TSC_FREQ', 0), msr_op(1, 'RESET', 1),
       msr_op(0, 0xf5, 0, 0x4000), msr_op(1, 0x90, 7, 0x0073)]
out('msr', 'sequence', hdr + b''.join(ops))
out('msr', 'no-privileges', bytes([3, 0xff, 0xff, 1, 0, 1, 0, 0]) + q(0) + b''.join(ops[:8]))

# ---- view: header {pages16, max slots, flags}, ops {op, a, x16, y16, z16} ----


def vop(op, a=0, x=0, y=0, z=0):
    return struct.pack('<BBHHH', op, a, x, y, z)


v = struct.pack('<HBB', 63, 40, 0)
v += vop(2, 0, 0, 0, 15)             # region 0: 16 pages at 0xC0000000
v += vop(0, 0, 3, 0, 0)              # overlay pool[0] read-only at page 3
v += vop(0, 3, 2, 1, 1)              # overlay pool[1] writable in the region
v += vop(3, 0, 10, 5, 1)             # pages 10..14 read-only
v += vop(3, 0, 20, 2, 0)             # pages 20..21 no access
v += vop(4)                          # commit
v += vop(0, 0, 3, 0, 1)              # move: same page, writable
v += vop(3, 0, 10, 5, 0xf)           # back to RWX
v += vop(5) + vop(6, 0, 0, 3) + vop(7, 0, 3) + vop(7, 3, 2) + vop(8, 0, 3, 0, 16)
v += vop(8, 0x20, 10, 0, 8) + vop(8, 0x40, 0, 0, 0x200) + vop(1, 0, 0, 0) + vop(4)
out('view', 'sequence', v)
alt = struct.pack('<HBB', 255, 8, 0) + b''.join(vop(3, 0, i * 2, 1, i & 1 and 1 or 3) for i in range(40)) + vop(4)
out('view', 'too-many-slots', alt)

# ---- hc ----
# engine mode: flags 0, then descriptors and rounds (see engine_mode)
eng = bytes([0]) + bytes([0x85, 1]) + struct.pack('<HHHH', 16, 8, 16, 8)
eng += bytes([0x10, 0]) + struct.pack('<HHHH', 4096, 0, 0, 0)
for code_idx, rep in ((4, 2), (5, 1), (1, 3), (10, 5)):
    eng += bytes([0, code_idx]) + struct.pack('<HH', rep, 0)
    eng += bytes([0]) + struct.pack('<H', 0) + bytes([8]) + struct.pack('<H', 0)     # RDX page 0, R8 page 1
    eng += struct.pack('<H', 0) + bytes(range(64)) * 16 + bytes([0]) + struct.pack('<H', rep) + bytes([0x41])
out('hc', 'engine', eng)


def pcall(vtl, code_idx, count, start, rdx_sel, r8_sel, params, rax=0, raw=None):
    how = (vtl & 1)
    b = bytes([how | (2 if raw is not None else 0)])
    b += q(raw) if raw is not None else bytes([code_idx, count, start])
    b += bytes([rdx_sel]) + struct.pack('<H', 0) + bytes([r8_sel]) + struct.pack('<H', 0)
    b += struct.pack('<H', len(params)) + params + q(rax)
    return b


SELF = q(0xffffffffffffffff)
getregs = SELF + struct.pack('<IB3x', 0xfffffffe, 0) + struct.pack('<IIII', 0x20000, 0x20010, 0xD0003, 0x90013)
setregs = SELF + struct.pack('<IB3x', 0xfffffffe, 0x11) + struct.pack('<I12xQQ', 0xD0007, 1 | (0xf << 1), 0)
modify = SELF + struct.pack('<IB3x', 1, 0x11) + q(0x100) + q(0x101)
enable = SELF + bytes([1, 0]) + b'\0' * 6
apic = SELF + bytes([0]) + b'\0' * 7 + struct.pack('<II', 0, 1)
post = struct.pack('<IIII', 1, 0, 0x100, 8) + q(0x1122334455667788) + b'\0' * 232
signal = struct.pack('<IHH', 2, 7, 0)
part = bytes([1 | 2 | 4 | 8])   # partition mode, 2 VPs, VTL1 with a vCPU
part += pcall(0, 4, 4, 0, 0, 9, getregs)
part += pcall(1, 5, 1, 0, 0, 9, setregs)
part += pcall(1, 1, 2, 0, 8, 9, modify)
part += pcall(0, 2, 0, 0, 0, 9, enable)
part += pcall(0, 9, 2, 0, 0, 9, apic)
part += pcall(0, 6, 0, 0, 0, 9, post)
part += pcall(0, 7, 0, 0, 0, 9, signal)
part += pcall(1, 4, 2, 0, 2, 10, getregs)
out('hc', 'partition', part)
out('hc', 'partition-vtl0', bytes([1]) + pcall(0, 3, 0, 0, 0, 9, SELF + struct.pack('<IB3x', 0, 1) + b'\0' * 224)
    + pcall(0, 8, 0, 0, 0, 9, SELF + struct.pack('<IB3x', 1, 0) + b'\0' * 224))

# ---- exit: flags, then {who, state, rax, rcx, rdx, r8, [rbx rsi rdi], reason, fields...} ----
R = dict(IO=0, MMIO=3, RDMSR=5, WRMSR=6, HLT=7, SHUTDOWN=8, FAIL=9, INTERNAL=10, DEBUG=11, UNKNOWN=12)


def ex(who, reason, fields, rax=0, rcx=0, rdx=0, r8=0, st=0):
    return bytes([who, st]) + q(rax) + q(rcx) + q(rdx) + q(r8) + bytes([R[reason]]) + fields


def io(out_, size_idx, port_sel, data, port=None, count_byte=0, string=False):
    f = (1 if out_ else 0) | (size_idx << 1) | (0x20 if string else 0)
    b = bytes([f, port_sel]) + (struct.pack('<H', port) if port is not None else b'')
    b += bytes([count_byte])
    b += struct.pack('<H', 0) + data.ljust(64, b'\0')
    return b


seq = bytes([2 | 4 | 8])                         # VTL1 with a vCPU, hypercall pages enabled
seq += ex(0, 'IO', io(True, 0, 2, b'h'))         # UART
seq += ex(0, 'IO', io(True, 0, 3, b'!'))         # debugcon
seq += ex(0, 'IO', io(True, 0, 7, b'abcd', port=0x80, count_byte=3, string=True))
seq += ex(0, 'IO', io(False, 1, 7, b'', port=0x1234))
seq += ex(0, 'IO', io(True, 0, 0, b'\0'), rcx=0x50 | (1 << 32), rdx=0x100000, r8=0x101000)   # hypercall
seq += ex(0, 'IO', io(True, 0, 0, b'\0'), rcx=0x11)                                          # VtlCall
seq += ex(2, 'IO', io(True, 0, 0, b'\0'), rcx=0x12)                                          # VtlReturn
seq += ex(0, 'MMIO', bytes([2 | 8]) + q(0x5a) + bytes([0]) + struct.pack('<H', 0x10))        # hcpage write
seq += ex(0, 'MMIO', bytes([3]) + q(0) + bytes([4]) + struct.pack('<H', 0))                  # hole read
seq += ex(0, 'WRMSR', bytes([0]) + struct.pack('<H', 0x83) + q(0x200001) + bytes([0]))       # SIMP
seq += ex(0, 'RDMSR', bytes([0]) + struct.pack('<H', 0x2) + q(0) + bytes([0]))
seq += ex(2, 'WRMSR', bytes([0]) + struct.pack('<H', 0x73) + q(0xC0002001) + bytes([0]))     # VTL1 assist
seq += ex(0, 'INTERNAL', struct.pack('<II', 1, 99) + q(1) * 16)
seq += ex(0, 'HLT', b'')
out('exit', 'sequence', seq)
out('exit', 'fatal', bytes([0]) + ex(0, 'SHUTDOWN', b'') + ex(0, 'FAIL', q(7) + struct.pack('<I', 1))
    + ex(0, 'DEBUG', struct.pack('<I', 1) + q(0xffff0ff1) + q(0)) + ex(0, 'UNKNOWN', b''))
out('exit', 'string-io', bytes([1]) + ex(1, 'IO', bytes([0x11 | 0x40 | 2]) + bytes([7]) + struct.pack('<H', 0x3f8)
    + struct.pack('<I', 1000) + q(4096) + b'x' * 64))
print('seeds written')
