#!/usr/bin/env python3
"""Reads a PSSharedMemory segment using only docs/segment-format.md and the Python standard library.

Prints one JSON object describing the header and the payload. It is an independent check that the
format document is true: tests/SegmentFormat.Tests.ps1 compares its output with what the module says.

  read_segment.py PATH                       read the segment file at PATH
  read_segment.py --name NAME [--global]     find the file in the store, as the module does
  read_segment.py ... --repeat N             read N times and check every payload is "uniform"
                                             (see check_uniform), for the torn-read test

Exit codes: 0 consistent payload, 1 usage or file errors, 3 interrupted write, 4 corrupted,
5 a non-uniform payload was accepted with --repeat (a torn read got through).
"""

import argparse
import base64
import ctypes
import errno
import hashlib
import json
import mmap
import os
import struct
import sys
import time

if os.name == "nt":
    import msvcrt
else:
    import fcntl

MAGIC = 0x004D454D48535350  # b"PSSHMEM\0" read as a little-endian u64
LAYOUT_VERSION = 1
HEADER_SIZE = 128
KNOWN_FLAGS = 0x1 | 0x2  # Removed | Global
CONTENT_TYPES = {0: "Empty", 1: "Text", 2: "Bytes", 3: "CliXml"}

# Header fields: name -> (offset, struct format). Little-endian, as the document says.
FIELDS = {
    "magic": (0, "<Q"),
    "layout_version": (8, "<H"),
    "header_size": (10, "<H"),
    "flags": (12, "<I"),
    "capacity": (16, "<Q"),
    "sequence": (24, "<Q"),
    "payload_length": (32, "<Q"),
    "content_type": (40, "<I"),
    "change_word": (44, "<I"),
    "change_waiters": (48, "<I"),
    "last_writer_pid": (52, "<I"),
    "last_write_time_ns": (56, "<q"),
    "creation_time_ns": (64, "<q"),
    "creator_pid": (72, "<I"),
    "lock_word": (76, "<I"),
    "lock_waiters": (80, "<I"),
    "lock_owner_pid": (84, "<I"),
    "abandoned_lock_pid": (88, "<I"),
}
RESERVED_START = 92

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_CORRUPTED, EXIT_TORN = 0, 1, 3, 4, 5


class Corrupted(Exception):
    pass


class Interrupted(Exception):
    pass


def field(view, name):
    offset, fmt = FIELDS[name]
    return struct.unpack_from(fmt, view, offset)[0]


def store_path(name, global_scope):
    """The segment file path, following "Where segments live"."""
    override = os.environ.get("PSSHAREDMEMORY_STORE")
    if os.name == "nt" or sys.platform == "darwin":
        # Case-insensitive file systems: a capital letter is written as '^' and the letter in lower case.
        name = "".join("^" + c.lower() if "A" <= c <= "Z" else c for c in name)
    if os.name == "nt":
        if override:
            directory = os.path.join(override, "pssm-global" if global_scope else "pssm-" + os.environ["USERNAME"])
        else:
            base = os.environ["ProgramData"] if global_scope else os.environ["LOCALAPPDATA"]
            directory = os.path.join(base, "PSSharedMemory", "Segments")
        return os.path.join(directory, name + ".pssm")
    parent = override or ("/tmp" if sys.platform == "darwin" else "/dev/shm")
    directory = "pssm-global" if global_scope else "pssm-%d" % os.geteuid()
    return os.path.join(parent, directory, name + ".pssm")


def validate(view, file_size):
    """The checks of the "Validation" section that need only the header."""
    if file_size < HEADER_SIZE:
        raise Corrupted("file is %d bytes, shorter than the header" % file_size)
    if field(view, "magic") != MAGIC:
        raise Corrupted("bad magic 0x%016x" % field(view, "magic"))
    if field(view, "layout_version") != LAYOUT_VERSION:
        raise Corrupted("layout version %d" % field(view, "layout_version"))
    if field(view, "header_size") != HEADER_SIZE:
        raise Corrupted("header size %d" % field(view, "header_size"))
    if field(view, "capacity") != file_size - HEADER_SIZE:
        raise Corrupted("capacity %d but the file holds %d" % (field(view, "capacity"), file_size - HEADER_SIZE))
    if field(view, "flags") & ~KNOWN_FLAGS:
        raise Corrupted("unknown flags 0x%x" % field(view, "flags"))


WINDOWS_LOCK_OFFSET = 0x7FFFFFFF00000000


def lock_is_free(fd):
    """Takes the segment's lock without waiting: True when it was free (and is now held), else False."""
    if os.name == "nt":
        # The byte-range lock on 1 byte at WINDOWS_LOCK_OFFSET (msvcrt.locking locks at the file position).
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def probe_lock(fd):
    """True when the lock is free; takes it for a moment to find out."""
    if lock_is_free(fd):
        unlock(fd)
        return True
    return False


def unlock(fd):
    if os.name == "nt":
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


def read_consistent(view, fd, capacity, timeout=10.0):
    """The read protocol: returns (sequence, content_type, payload, retries)."""
    # One aligned 8-byte load, so the sequence itself is never torn (struct reads byte by byte).
    # x86-64 keeps loads in program order, which stands in for the barriers of steps 1 and 4;
    # Python has no fence instruction, so on weaker CPUs this script is only a best effort.
    sequence = ctypes.c_uint64.from_buffer(view, FIELDS["sequence"][0])
    failure = None
    try:
        outcome = _read_consistent(view, fd, capacity, timeout, sequence)
    except (Corrupted, Interrupted, TimeoutError) as e:
        # Re-raised below without the traceback, which would keep the ctypes view (and the mapping) alive.
        failure = (type(e), str(e))
    del sequence
    if failure:
        raise failure[0](failure[1])
    return outcome


def _read_consistent(view, fd, capacity, timeout, sequence):
    deadline = time.monotonic() + timeout
    retries = 0
    while True:
        s1 = sequence.value
        if s1 & 1 == 0:
            length = field(view, "payload_length")
            ctype = field(view, "content_type")
            plausible = length <= capacity and ctype in CONTENT_TYPES
            payload = bytes(view[HEADER_SIZE:HEADER_SIZE + length]) if plausible else b""
            s2 = sequence.value
            if s2 == s1:
                if not plausible:
                    raise Corrupted("payload length %d or content type %d out of range" % (length, ctype))
                return s1 >> 1, ctype, payload, retries
        else:
            # Odd: a write is in progress, unless it stays odd while the lock is free.
            if lock_is_free(fd):
                try:
                    if sequence.value & 1:
                        raise Interrupted("sequence %d is odd and no one holds the lock" % sequence.value)
                finally:
                    # Waiters poll in 50 ms slices, so not bumping LockWord only delays them.
                    unlock(fd)
        retries += 1
        if time.monotonic() > deadline:
            raise TimeoutError("no consistent copy within %.1f s" % timeout)
        if retries % 64 == 0:
            time.sleep(0.0005)


def check_uniform(payload):
    """The torn-read test writes payloads whose bytes all equal b and whose length is 1000 + 37*b."""
    if not payload:
        return True
    b = payload[0]
    return len(payload) == 1000 + 37 * b and payload.count(b) == len(payload)


def describe(path, repeat):
    result = {"path": path}
    fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if size < HEADER_SIZE:
            raise Corrupted("file is %d bytes, shorter than the header" % size)
        # Mapped writable only so that ctypes can load the sequence; this script never writes.
        if os.name == "nt":
            view = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
        else:
            view = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        with view:
            validate(view, size)
            capacity = field(view, "capacity")
            flags = field(view, "flags")
            result.update({
                "magic": "0x%016x" % field(view, "magic"),
                "magic_ascii": bytes(view[0:7]).decode("ascii"),
                "layout_version": field(view, "layout_version"),
                "header_size": field(view, "header_size"),
                "capacity": capacity,
                "file_size": size,
                "flags": flags,
                "removed": bool(flags & 1),
                "global": bool(flags & 2),
                "creator_pid": field(view, "creator_pid"),
                "creation_time_ns": field(view, "creation_time_ns"),
                "abandoned_lock_pid": field(view, "abandoned_lock_pid"),
                "reserved_zero": bytes(view[RESERVED_START:HEADER_SIZE]) == bytes(HEADER_SIZE - RESERVED_START),
            })
            if repeat:
                torn = 0
                retries = 0
                sequences = set()
                for _ in range(repeat):
                    seq, ctype, payload, r = read_consistent(view, fd, capacity)
                    retries += r
                    sequences.add(seq)
                    if not check_uniform(payload):
                        torn += 1
                result.update({"reads": repeat, "torn": torn, "retries": retries,
                               "distinct_sequences": len(sequences)})
                return result, (EXIT_TORN if torn else EXIT_OK)

            seq, ctype, payload, retries = read_consistent(view, fd, capacity)
            # Metadata written with the payload; read right after it, so only exact while no one writes.
            result.update({
                "sequence": seq,
                "raw_sequence": field(view, "sequence"),
                "content_type": ctype,
                "content_type_name": CONTENT_TYPES[ctype],
                "length": len(payload),
                "last_writer_pid": field(view, "last_writer_pid"),
                "last_write_time_ns": field(view, "last_write_time_ns"),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "retries": retries,
                "lock_owner_pid": field(view, "lock_owner_pid"),
                "lock_free": probe_lock(fd),
            })
            if ctype in (1, 3):
                result["text"] = payload.decode("utf-8")
            elif ctype == 2:
                result["base64"] = base64.b64encode(payload).decode("ascii")
            return result, EXIT_OK
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--name")
    parser.add_argument("--global", dest="global_scope", action="store_true")
    parser.add_argument("--repeat", type=int, default=0)
    args = parser.parse_args()
    if bool(args.path) == bool(args.name):
        parser.error("give either PATH or --name")
    path = args.path or store_path(args.name, args.global_scope)

    try:
        result, code = describe(path, args.repeat)
        result["status"] = "ok" if code == EXIT_OK else "torn"
    except Interrupted as e:
        result, code = {"path": path, "status": "interrupted", "error": str(e)}, EXIT_INTERRUPTED
    except Corrupted as e:
        result, code = {"path": path, "status": "corrupted", "error": str(e)}, EXIT_CORRUPTED
    except (OSError, TimeoutError) as e:
        result, code = {"path": path, "status": "error", "error": str(e)}, EXIT_USAGE
    json.dump(result, sys.stdout, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
