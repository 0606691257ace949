#!/usr/bin/env python3
"""Marks a version requirement of an ELF shared object weak: elf_weak_version.py FILE VERSION (e.g. GLIBCXX_3.4.32).

The dynamic loader refuses a library whose .gnu.version_r requires a symbol version the providing library lacks,
unless that requirement carries VER_FLG_WEAK (0x2); then it only notes it. tools/setup uses this on its copy of
libLibTorchSharp.so once the one symbol that needed GLIBCXX_3.4.32 is served by a shim. ELF64 little-endian only.
Prints the number of entries changed and exits 1 when there was none.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path, version):
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    # Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    changed = 0
    for section in sections:
        if section[1] != SHT_GNU_VERNEED:
            continue
        strings = sections[section[6]][4]
        need = section[4]
        while True:
            # Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _, count, _, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(count):
                # Elf64_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                end = data.index(b"\0", strings + name)
                if bytes(data[strings + name:end]) == version.encode():
                    struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                    changed += 1
                entry += next_aux
            if next_need == 0:
                break
            need += next_need
    with open(path, "wb") as f:
        f.write(data)
    print(changed)
    return 0 if changed else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
