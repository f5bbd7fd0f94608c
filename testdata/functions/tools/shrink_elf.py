#!/usr/bin/env python3
"""shrink_elf.py FILE...: rewrite 64-bit little-endian ELF files in place,
keeping only what depwarden's platform checks read: the ELF header (its
machine, class and type unchanged), `.dynstr`, `.dynamic` (DT_NEEDED) and
`.gnu.version_r` (the GLIBC_x.y versions needed). Program headers and code
are dropped, so a 2 MB shared object becomes a few KB that still says the
same thing to `readelf -h -d -V`. Standard library only.
"""
import struct
import sys

KEEP = [b".dynstr", b".dynamic", b".gnu.version_r"]


def shrink(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    hdr = list(struct.unpack_from("<16sHHIQQQIHHHHHH", data, 0))
    shoff, shentsize, shnum, shstrndx = hdr[6], hdr[11], hdr[12], hdr[13]
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_off = secs[shstrndx][4]

    def name(s):
        start = names_off + s[0]
        return data[start:data.index(b"\0", start)]

    kept = [(name(s), s) for s in secs if name(s) in KEEP]
    order = [n for n, _ in kept]
    out = bytearray(64)
    headers = [(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    shstr = bytearray(b"\0")
    new_index = {n: i + 1 for i, n in enumerate(order)}
    for n, s in kept:
        while len(out) % 8:
            out.append(0)
        off = len(out)
        out += data[s[4]:s[4] + s[5]]
        name_at = len(shstr)
        shstr += n + b"\0"
        link = new_index.get(b".dynstr", 0) if n != b".dynstr" else 0
        headers.append((name_at, s[1], s[2], s[3], off, s[5], link, s[7], s[8], s[9]))
    name_at = len(shstr)
    shstr += b".shstrtab\0"
    off = len(out)
    out += shstr
    headers.append((name_at, 3, 0, 0, off, len(shstr), 0, 0, 1, 0))
    while len(out) % 8:
        out.append(0)
    new_shoff = len(out)
    for h in headers:
        out += struct.pack("<IIQQQQIIQQ", *h)
    hdr[5] = 0          # e_phoff
    hdr[6] = new_shoff  # e_shoff
    hdr[10] = 0         # e_phnum
    hdr[12] = len(headers)
    hdr[13] = len(headers) - 1
    struct.pack_into("<16sHHIQQQIHHHHHH", out, 0, *hdr)
    return bytes(out)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            small = shrink(f.read())
        with open(path, "wb") as f:
            f.write(small)
        print(f"{path}: {len(small)} bytes")
