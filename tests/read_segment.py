#!/usr/bin/env python3
"""Reads a PSSharedMemory segment using only docs/segment-format.md and the Python standard library.

Prints one JSON object describing the header and the payload. It is an independent check that the
format document is true: tests/SegmentFormat.Tests.ps1 compares its output with what the module says.

  read_segment.py PATH                       read the segment file at PATH
  read_segment.py --name NAME [--global]     find the file in the store, as the module does
  read_segment.py ... --repeat N             read N times and check every payload is "uniform"
                                             (see check_uniform), for the torn-read test
  read_segment.py ... --until-version V --check digest [--ready] [--timeout S]
                                             read until version V is seen, checking every payload
                                             (see check_digest), while another process grows the
                                             segment; --ready writes "ready" to stderr after the
                                             first read, so a test can start writing only then

Layout versions 1 (fixed size) and 2 (growable) are read; any other is reported as corrupted. A grow
by another process is followed as the document says: Size is read again before every access to the
payload, and when it exceeds this process's mapping the file is checked (fstat) and mapped again.

Exit codes: 0 consistent payload, 1 usage or file errors, 3 interrupted write, 4 corrupted,
5 a payload that failed --check was accepted (a torn read got through), 6 --until-version timed out.
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
FIXED_LAYOUT, GROWABLE_LAYOUT = 1, 2  # the layout versions this reader knows
HEADER_SIZE = 128
LARGEST_SIZE = 1 << 40  # 1 TiB: the most Size and MaxSize may be
KNOWN_FLAGS = 0x1 | 0x2  # Removed | Global
CONTENT_TYPES = {0: "Empty", 1: "Text", 2: "Bytes", 3: "CliXml"}

# Header fields: name -> (offset, struct format). Little-endian, as the document says.
FIELDS = {
    "magic": (0, "<Q"),
    "layout_version": (8, "<H"),
    "header_size": (10, "<H"),
    "flags": (12, "<I"),
    "size": (16, "<Q"),
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
    "max_size": (96, "<Q"),
}
RESERVED = ((92, 96), (104, HEADER_SIZE))

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_CORRUPTED, EXIT_TORN, EXIT_TIMEOUT = 0, 1, 3, 4, 5, 6


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


def map_file(fd, length, writable):
    if os.name == "nt":
        return mmap.mmap(fd, length, access=mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ)
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
    return mmap.mmap(fd, length, mmap.MAP_SHARED, prot)


class Segment:
    """
    An open segment file. The header is read through the first mapping, which is never replaced; the
    payload is copied from the newest mapping, which a grow (layout 2) replaces with a larger one.
    Nothing is ever read beyond the mapping it is read from.
    """

    def __init__(self, fd):
        self.fd = fd
        self.file_size = os.fstat(fd).st_size
        if self.file_size < HEADER_SIZE:
            raise Corrupted("file is %d bytes, shorter than the header" % self.file_size)
        # Mapped writable only so that ctypes can load the 8-byte words; this script never writes.
        self.header = map_file(fd, self.file_size, writable=True)
        self.payload_view = self.header
        self.mapped = self.file_size  # bytes of the file the payload mapping covers
        self.remaps = 0  # mappings replaced because Size rose
        self.remaps_on_length = 0  # of those, the ones a payload length past the mapping asked for
        # Aligned 8-byte loads, so Sequence and Size are never torn (struct reads byte by byte).
        # x86-64 keeps loads in program order, which stands in for the acquire loads and barriers of the
        # document; Python has no fence instruction, so on weaker CPUs this script is only a best effort.
        # Only attributes hold these views (never locals), so close() can release the mapping.
        self._sequence = ctypes.c_uint64.from_buffer(self.header, FIELDS["sequence"][0])
        self._size = ctypes.c_uint64.from_buffer(self.header, FIELDS["size"][0])
        self.layout_version = field(self.header, "layout_version")
        self.validate()

    @property
    def growable(self):
        return self.layout_version == GROWABLE_LAYOUT

    @property
    def covered(self):
        """Payload bytes the current mapping covers."""
        return self.mapped - HEADER_SIZE

    def close(self):
        del self._sequence, self._size
        if self.payload_view is not self.header:
            self.payload_view.close()
        self.header.close()

    def validate(self):
        """The header checks of "Validation"; every read makes them again (a few loads)."""
        view = self.header
        if field(view, "magic") != MAGIC:
            raise Corrupted("bad magic 0x%016x" % field(view, "magic"))
        version = field(view, "layout_version")
        if version not in (FIXED_LAYOUT, GROWABLE_LAYOUT):
            raise Corrupted("layout version %d (this reader knows versions %d and %d)" % (version, FIXED_LAYOUT, GROWABLE_LAYOUT))
        if version != self.layout_version:
            raise Corrupted("layout version changed from %d to %d" % (self.layout_version, version))
        if field(view, "header_size") != HEADER_SIZE:
            raise Corrupted("header size %d" % field(view, "header_size"))
        size = self._size.value
        if self.growable:
            max_size = field(view, "max_size")
            if not 1 <= size <= max_size <= LARGEST_SIZE:
                raise Corrupted("size %d and max size %d break 1 <= Size <= MaxSize <= 2^40" % (size, max_size))
        elif size != self.file_size - HEADER_SIZE:
            raise Corrupted("size %d but the file holds %d" % (size, self.file_size - HEADER_SIZE))
        if field(view, "flags") & ~KNOWN_FLAGS:
            raise Corrupted("unknown flags 0x%x" % field(view, "flags"))

    def current_size(self):
        """
        Size, loaded once. Layout 2: when it exceeds the mapping, another process grew the segment;
        follow it before anything touches the payload.
        """
        size = self._size.value
        if self.growable:
            if size > field(self.header, "max_size"):
                raise Corrupted("size %d above max size %d" % (size, field(self.header, "max_size")))
            if size > self.covered:
                self.remap(size)
        return size

    def remap(self, size):
        """Maps the file again at 128 + size, after checking the file holds that much."""
        file_size = os.fstat(self.fd).st_size
        if file_size < HEADER_SIZE + size:
            # A grower lengthens the file before it raises Size, so a shorter file is damage.
            raise Corrupted("size %d but the file holds only %d payload bytes" % (size, file_size - HEADER_SIZE))
        replaced = self.payload_view
        self.payload_view = map_file(self.fd, HEADER_SIZE + size, writable=False)
        self.mapped = HEADER_SIZE + size
        self.remaps += 1
        if replaced is not self.header:
            replaced.close()

    def check_file(self):
        """One fstat before touching the mapping: a file cut short is Corrupted instead of a SIGBUS."""
        if os.name != "nt":
            file_size = os.fstat(self.fd).st_size
            if file_size < self.mapped:
                raise Corrupted("the file holds %d bytes, less than the %d mapped" % (file_size, self.mapped))

    def read(self, timeout=10.0):
        """The read protocol: returns (version, content_type, payload, retries)."""
        self.validate()
        deadline = time.monotonic() + timeout
        retries = 0
        while True:
            s1 = self._sequence.value
            if s1 & 1 == 0:
                # Size after an even s1 is at least what write s1 needed (a grow comes before the odd store).
                size = self.current_size()
                self.check_file()
                length = field(self.header, "payload_length")
                ctype = field(self.header, "content_type")
                in_range = length <= min(size, self.covered) and ctype in CONTENT_TYPES
                payload = self.payload_view[HEADER_SIZE:HEADER_SIZE + length] if in_range else None
                s2 = self._sequence.value
                if not in_range and ctype in CONTENT_TYPES and self.covered < length <= self._size.value:
                    # A write made after a grow this mapping does not cover: map again, start over.
                    # (Size was read after s1, so for a consistent read this only happens to a reader
                    # that did not read Size again; it is the document's rule all the same.)
                    remaps = self.remaps
                    self.current_size()
                    self.remaps_on_length += self.remaps - remaps
                elif s2 == s1:
                    if not in_range:
                        raise Corrupted("payload length %d or content type %d out of range" % (length, ctype))
                    return s1 >> 1, ctype, payload, retries
            else:
                # Odd: a write is in progress, unless it stays odd while the lock is free.
                if lock_is_free(self.fd):
                    try:
                        if self._sequence.value & 1:
                            raise Interrupted("sequence %d is odd and no one holds the lock" % self._sequence.value)
                    finally:
                        # Waiters poll in 50 ms slices, so not bumping LockWord only delays them.
                        unlock(self.fd)
            retries += 1
            if time.monotonic() > deadline:
                raise TimeoutError("no consistent copy within %.1f s" % timeout)
            if retries % 64 == 0:
                time.sleep(0.0005)


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


def check_uniform(ctype, payload):
    """The torn-read test writes payloads whose bytes all equal b and whose length is 1000 + 37*b."""
    if not payload:
        return True
    b = payload[0]
    return len(payload) == 1000 + 37 * b and payload.count(b) == len(payload)


def check_digest(ctype, payload):
    """Bytes whose last 32 are the SHA-256 of the ones before them (or nothing yet, before the first write)."""
    if ctype == 0:
        return not payload
    return ctype == 2 and len(payload) >= 32 and hashlib.sha256(payload[:-32]).digest() == payload[-32:]


CHECKS = {"uniform": check_uniform, "digest": check_digest}


def describe_header(segment):
    view = segment.header
    flags = field(view, "flags")
    return {
        "magic": "0x%016x" % field(view, "magic"),
        "magic_ascii": bytes(view[0:7]).decode("ascii"),
        "layout_version": segment.layout_version,
        "growable": segment.growable,
        "header_size": field(view, "header_size"),
        "size": field(view, "size"),
        "max_size": field(view, "max_size"),
        "file_size": segment.file_size,
        "flags": flags,
        "removed": bool(flags & 1),
        "global": bool(flags & 2),
        "creator_pid": field(view, "creator_pid"),
        "creation_time_ns": field(view, "creation_time_ns"),
        "abandoned_lock_pid": field(view, "abandoned_lock_pid"),
        "reserved_zero": all(bytes(view[a:b]) == bytes(b - a) for a, b in RESERVED),
    }


def read_repeatedly(segment, args):
    """
    Reads again and again: --repeat times, and (with --until-version) until a read returns that version
    or a later one. Every payload must pass --check; one that does not is a torn read that got through.
    """
    check = CHECKS[args.check]
    deadline = time.monotonic() + args.timeout
    reads = torn = retries = 0
    versions = set()
    sizes = []
    first_version = last_version = max_length = None
    while reads < args.repeat or (args.until_version is not None and (last_version is None or last_version < args.until_version)):
        if reads >= args.repeat and time.monotonic() > deadline:
            break
        version, ctype, payload, r = segment.read()
        reads += 1
        retries += r
        versions.add(version)
        if first_version is None:
            first_version = version
        last_version = version
        max_length = max(max_length or 0, len(payload))
        size = segment._size.value
        if not sizes or sizes[-1] != size:
            sizes.append(size)
        if not check(ctype, payload):
            torn += 1
        if reads == 1 and args.ready:
            # The handshake: the reader is running and has read once; a test may start writing now.
            sys.stderr.write("ready\n")
            sys.stderr.flush()
    result = {
        "reads": reads, "torn": torn, "retries": retries, "distinct_sequences": len(versions),
        "first_version": first_version, "last_version": last_version, "max_length": max_length,
        "sizes_seen": sizes, "remaps": segment.remaps, "remaps_on_length": segment.remaps_on_length,
        "mapped_size": segment.covered,
    }
    if torn:
        return result, EXIT_TORN
    if args.until_version is not None and (last_version is None or last_version < args.until_version):
        result["error"] = "version %d not seen within %.0f s" % (args.until_version, args.timeout)
        return result, EXIT_TIMEOUT
    return result, EXIT_OK


def describe(path, args):
    result = {"path": path}
    fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        segment = Segment(fd)
        try:
            result.update(describe_header(segment))
            if args.repeat or args.until_version is not None:
                outcome, code = read_repeatedly(segment, args)
                result.update(outcome)
                result["size"] = segment._size.value
                return result, code

            version, ctype, payload, retries = segment.read()
            # Metadata written with the payload; read right after it, so only exact while no one writes.
            result.update({
                "sequence": version,
                "raw_sequence": field(segment.header, "sequence"),
                "size": segment._size.value,
                "mapped_size": segment.covered,
                "remaps": segment.remaps,
                "remaps_on_length": segment.remaps_on_length,
                "content_type": ctype,
                "content_type_name": CONTENT_TYPES[ctype],
                "length": len(payload),
                "last_writer_pid": field(segment.header, "last_writer_pid"),
                "last_write_time_ns": field(segment.header, "last_write_time_ns"),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "retries": retries,
                "lock_owner_pid": field(segment.header, "lock_owner_pid"),
                "lock_free": probe_lock(fd),
            })
            if ctype in (1, 3):
                result["text"] = payload.decode("utf-8")
            elif ctype == 2:
                result["base64"] = base64.b64encode(payload).decode("ascii")
            return result, EXIT_OK
        finally:
            segment.close()
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--name")
    parser.add_argument("--global", dest="global_scope", action="store_true")
    parser.add_argument("--repeat", type=int, default=0, help="read this many times, checking every payload")
    parser.add_argument("--until-version", type=int, help="read until a read returns this version or a later one")
    parser.add_argument("--check", choices=sorted(CHECKS), default="uniform", help="what every repeated read's payload must be")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds --until-version waits for its version")
    parser.add_argument("--ready", action="store_true", help='write "ready" to stderr after the first repeated read')
    args = parser.parse_args()
    if bool(args.path) == bool(args.name):
        parser.error("give either PATH or --name")
    path = args.path or store_path(args.name, args.global_scope)

    try:
        result, code = describe(path, args)
        result["status"] = {EXIT_OK: "ok", EXIT_TORN: "torn", EXIT_TIMEOUT: "timeout"}[code]
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
