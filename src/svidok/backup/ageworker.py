"""The age worker process: run as a file (`python -I ageworker.py MEMFD SIZE`) by `svidok.backup.agepool`.

It imports nothing of svidok (a fast start, nothing shared with the parent but
one anonymous memory file and two pipes). Requests arrive on stdin, replies go
to stdout; the data sits in the memory file passed as descriptor MEMFD.

Request: `>BQQQQH` op (1 encrypt, 2 decrypt), input offset, input length,
output offset, output capacity, key length; then the key (an age recipient
`age1...` to encrypt, the repository's identity `AGE-SECRET-KEY-1...` to
decrypt: secret, which is why it travels through the pipe and never through
argv or the environment). Reply: `>BQQ` status (0 ok, 1 age refused the input,
2 the output does not fit), the output length and the nanoseconds age took. Parsed keys are kept for
the life of the process (one operation: the parent ends the workers after it).
"""

from __future__ import annotations

import importlib
import mmap
import os
import struct
import sys
import time
from typing import Any

REQUEST = struct.Struct(">BQQQQH")
REPLY = struct.Struct(">BQQ")
ENCRYPT, DECRYPT = 1, 2
OK, REFUSED, TOO_BIG = 0, 1, 2


def _read_exact(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        data = os.read(fd, n)
        if not data:
            return None
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def main(memfd: int, size: int) -> None:
    pyrage: Any = importlib.import_module("pyrage")
    parse = {ENCRYPT: pyrage.x25519.Recipient.from_str, DECRYPT: pyrage.x25519.Identity.from_str}
    mem = mmap.mmap(memfd, size)
    keys: dict[bytes, Any] = {}
    while True:
        head = _read_exact(0, REQUEST.size)
        if head is None:
            return  # the parent closed the pipe: the operation is over
        op, in_off, in_len, out_off, out_cap, key_len = REQUEST.unpack(head)
        key_text = _read_exact(0, key_len)
        if key_text is None:
            return
        key = keys.get(key_text)
        if key is None:
            key = keys[key_text] = parse[op](key_text.decode())
        data = mem[in_off : in_off + in_len]  # a bytes copy: age takes bytes only
        t0 = time.perf_counter_ns()
        try:
            out = pyrage.encrypt(data, [key]) if op == ENCRYPT else pyrage.decrypt(data, [key])
        except Exception:  # pyrage's DecryptError / EncryptError: the parent names the object
            os.write(1, REPLY.pack(REFUSED, 0, time.perf_counter_ns() - t0))
            continue
        took = time.perf_counter_ns() - t0
        del data
        if len(out) > out_cap:
            os.write(1, REPLY.pack(TOO_BIG, len(out), took))
            continue
        mem[out_off : out_off + len(out)] = out
        os.write(1, REPLY.pack(OK, len(out), took))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
