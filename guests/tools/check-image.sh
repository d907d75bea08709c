#!/bin/sh
# SPDX-License-Identifier: MIT
# Static checks of one guest image against the boot contract (docs/guest-abi.md) and the
# platform's limits: ELF64 x86-64 ET_EXEC; every PT_LOAD at p_paddr >= 1 MiB with
# p_filesz <= p_memsz; the entry point inside an R+X PT_LOAD; and no instruction the platform
# cannot run at CPL0 (vmcall, vmmcall, int/int3/into/int1) or any SSE/MMX/x87 instruction
# (`int $0x80` is allowed in sections named .user*, which only ever run at CPL3).
# Usage: check-image.sh IMAGE...   Exit 0 when every image passes. Needs readelf and objdump.
set -u

READELF=${READELF:-readelf}
OBJDUMP=${OBJDUMP:-objdump}
MIN_PADDR=$((0x100000))
status=0

fail() {
	echo "check-image: $img: $*" >&2
	status=1
}

for img in "$@"; do
	if ! hdr=$(LC_ALL=C "$READELF" -hlW "$img" 2>&1); then
		fail "readelf failed: $hdr"
		continue
	fi
	echo "$hdr" | grep -q 'Class:[[:space:]]*ELF64' || fail "not ELF64"
	echo "$hdr" | grep -q 'Type:[[:space:]]*EXEC' || fail "not ET_EXEC"
	echo "$hdr" | grep -q 'Machine:[[:space:]]*Advanced Micro Devices X86-64' || fail "not x86-64"
	entry=$(echo "$hdr" | sed -n 's/.*Entry point address:[[:space:]]*\(0x[0-9a-fA-F]*\).*/\1/p')
	[ -n "$entry" ] || { fail "no entry point"; continue; }

	# LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
	loads=$(echo "$hdr" | awk '$1 == "LOAD" { flags = ""; for (i = 7; i < NF; i++) flags = flags $i; print $3, $4, $5, $6, flags }')
	[ -n "$loads" ] || fail "no PT_LOAD segment"
	entry_ok=0
	while read -r vaddr paddr filesz memsz flags; do
		[ -n "$vaddr" ] || continue
		if [ $((paddr)) -lt $MIN_PADDR ]; then
			fail "PT_LOAD at p_paddr $paddr below $(printf '%#x' $MIN_PADDR)"
		fi
		if [ $((filesz)) -gt $((memsz)) ]; then
			fail "PT_LOAD at $paddr has p_filesz $filesz > p_memsz $memsz"
		fi
		case $flags in
		*E*)
			if [ $((entry)) -ge $((vaddr)) ] && [ $((entry)) -lt $((vaddr + memsz)) ]; then
				case $flags in *R*) entry_ok=1 ;; esac
			fi ;;
		esac
	done <<EOT
$loads
EOT
	[ $entry_ok = 1 ] || fail "entry $entry is not inside an R+X PT_LOAD"

	if ! dis=$(LC_ALL=C "$OBJDUMP" -d --no-show-raw-insn "$img" 2>&1); then
		fail "objdump failed: $dis"
		continue
	fi
	# Sections named .user* hold CPL3-only code (a secure kernel's trustlet): `int $0x80` is its
	# way back to CPL0 through a DPL-3 gate, which works from CPL3. Nothing else is exempt.
	dis=$(echo "$dis" | awk '
		/^Disassembly of section / { sec = $4; sub(/:$/, "", sec); next }
		sec ~ /^\.user/ && /[[:space:]]int[[:space:]]+\$0x80([[:space:]]|$)/ { next }
		{ print }')
	bad=$(echo "$dis" | grep -E '^[[:space:]]*[0-9a-f]+:[[:space:]]' |
		grep -Ei '[[:space:]](vmcall|vmmcall|vmlaunch|vmresume|int|int3|int1|icebp|into|movbe|xrstors?|xsaves?|cmpxchg16b)([[:space:]]|$)|%xmm|%ymm|%zmm|%mm[0-7]|%st(\(|$|[,[:space:]])|[[:space:]](f[a-z0-9]+|emms|ldmxcsr|stmxcsr)([[:space:]]|$)')
	if [ -n "$bad" ]; then
		fail "forbidden instructions:"
		echo "$bad" | head -20 >&2
	fi
done
exit $status
