#!/usr/bin/env python3
"""Sends to and receives from a PSSharedMemory queue, using only docs/segment-format.md ("Queues") and
the Python standard library.

  queue_segment.py --name NAME send --text TEXT        send one Text message
  queue_segment.py --name NAME send --base64 DATA      send one Bytes message
  queue_segment.py --name NAME receive [--count N] [--wait S]
                                                       take up to N messages, waiting up to S seconds
                                                       for the first while the queue is empty
  queue_segment.py --name NAME peek [--count N]        copy up to N messages without taking them

Prints one JSON object. tests/SegmentFormat.Tests.ps1 checks it against the module: what one sends,
the other receives. Exit codes: 0 done, 1 usage or file errors, 4 corrupted, 7 the queue stayed full.
"""

import argparse
import base64
import ctypes
import json
import mmap
import os
import platform
import struct
import sys
import time

import read_segment as rs

QUEUE_LAYOUT = 3
RECORD_HEADER = 16
HEAD, TAIL, SPACE_WORD = 96, 104, 120
EXIT_FULL = 7
FUTEX_WAKE = 1
FUTEX_SYSCALL = {"x86_64": 202, "aarch64": 98, "arm64": 98}.get(platform.machine())


def record_size(length):
    return RECORD_HEADER + ((length + 7) & ~7)


class Queue:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        file_size = os.fstat(self.fd).st_size
        if file_size < rs.HEADER_SIZE:
            raise rs.Corrupted("file is %d bytes, shorter than the header" % file_size)
        self.view = rs.map_file(self.fd, file_size, writable=True)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.view))
        view = self.view
        if rs.field(view, "magic") != rs.MAGIC:
            raise rs.Corrupted("bad magic")
        if rs.field(view, "layout_version") != QUEUE_LAYOUT:
            raise rs.Corrupted("layout version %d is not a queue (3)" % rs.field(view, "layout_version"))
        if rs.field(view, "header_size") != rs.HEADER_SIZE:
            raise rs.Corrupted("header size %d" % rs.field(view, "header_size"))
        self.size = rs.field(view, "size")
        if self.size != file_size - rs.HEADER_SIZE or self.size % 8 or self.size < 32:
            raise rs.Corrupted("queue size %d for a file of %d bytes" % (self.size, file_size))
        # Aligned 8-byte words, loaded and stored whole.
        self._head = ctypes.c_uint64.from_buffer(view, HEAD)
        self._tail = ctypes.c_uint64.from_buffer(view, TAIL)
        self._sequence = ctypes.c_uint64.from_buffer(view, rs.FIELDS["sequence"][0])
        self._words = {offset: ctypes.c_uint32.from_buffer(view, offset) for offset in (44, 48, 76, 80, 84, 88, SPACE_WORD, SPACE_WORD + 4)}

    def close(self):
        del self._head, self._tail, self._sequence, self._words
        self.view.close()
        os.close(self.fd)

    def positions(self):
        head, tail = self._head.value, self._tail.value
        if tail < head or tail - head > self.size or head % 8 or tail % 8:
            raise rs.Corrupted("impossible positions head %d tail %d" % (head, tail))
        return head, tail

    # --- the lock ("The lock"): the file lock, then LockOwnerPid ------------------------------------------
    def lock(self, timeout):
        deadline = time.monotonic() + timeout
        while not rs.lock_is_free(self.fd):
            if time.monotonic() > deadline:
                raise TimeoutError("the queue's lock stayed taken")
            time.sleep(0.001)
        owner = self._words[84]
        if owner.value != 0 and self._words[88].value == 0:
            self._words[88].value = owner.value  # AbandonedLockPid: the previous holder died holding it
        owner.value = os.getpid()

    def unlock(self):
        self._words[84].value = 0
        rs.unlock(self.fd)
        self.bump(76)

    def bump(self, offset):
        """Increments a wait word (not atomically: the document allows a tool that cannot) and wakes its waiters."""
        word = self._words[offset]
        word.value = (word.value + 1) & 0xFFFFFFFF
        if self._words[offset + 4].value and FUTEX_SYSCALL and sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall(FUTEX_SYSCALL, ctypes.c_void_p(self.base + offset), FUTEX_WAKE, 0x7FFFFFFF, None, None, 0)

    # --- the ring ---------------------------------------------------------------------------------------
    def copy_in(self, position, data):
        at = position % self.size
        first = min(len(data), self.size - at)
        start = rs.HEADER_SIZE + at
        self.view[start:start + first] = data[:first]
        if first < len(data):
            self.view[rs.HEADER_SIZE:rs.HEADER_SIZE + len(data) - first] = data[first:]

    def copy_out(self, position, count):
        at = position % self.size
        first = min(count, self.size - at)
        start = rs.HEADER_SIZE + at
        data = self.view[start:start + first]
        if first < count:
            data += self.view[rs.HEADER_SIZE:rs.HEADER_SIZE + count - first]
        return bytes(data)

    def send(self, payload, content_type, timeout):
        record = record_size(len(payload))
        if record > self.size:
            raise ValueError("a message of %d bytes does not fit a queue of %d" % (len(payload), self.size))
        deadline = time.monotonic() + timeout
        while True:
            self.lock(timeout)
            try:
                head, tail = self.positions()
                if tail - head + record <= self.size:
                    s = self._sequence.value
                    w = s + 1 if s % 2 == 0 else s + 2
                    version = (w + 1) // 2
                    self._sequence.value = w
                    self.copy_in(tail, struct.pack("<IIq", len(payload), content_type, version) + payload)
                    struct.pack_into("<I", self.view, rs.FIELDS["last_writer_pid"][0], os.getpid())
                    struct.pack_into("<q", self.view, rs.FIELDS["last_write_time_ns"][0], time.time_ns() // 100 * 100)
                    self._tail.value = tail + record  # the commit
                    self._sequence.value = w + 1
                    self.bump(44)
                    return version
            finally:
                self.unlock()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.001)  # full: a receiver frees room; polling stands in for sleeping on SpaceWord

    def receive(self, count, wait, peek):
        deadline = time.monotonic() + wait
        while True:
            self.lock(max(wait, 30.0))
            try:
                head, tail = self.positions()
                messages = []
                position = head
                while position != tail and len(messages) < count:
                    length, ctype, version = struct.unpack("<IIq", self.copy_out(position, RECORD_HEADER))
                    record = record_size(length)
                    if length > self.size - RECORD_HEADER or ctype not in (1, 2, 3) or record > tail - position:
                        raise rs.Corrupted("impossible record at %d: length %d, type %d" % (position, length, ctype))
                    payload = self.copy_out((position + RECORD_HEADER) % self.size, length)
                    messages.append({"version": version, "content_type": ctype, "content_type_name": rs.CONTENT_TYPES[ctype],
                                     "length": length, "base64": base64.b64encode(payload).decode("ascii"),
                                     "text": payload.decode("utf-8", "replace") if ctype in (1, 3) else None})
                    position += record
                if messages and not peek:
                    self._head.value = position  # the commit
                    self.bump(SPACE_WORD)
                if messages or time.monotonic() > deadline:
                    return messages
            finally:
                self.unlock()
            time.sleep(0.001)  # empty: polling stands in for sleeping on ChangeWord


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--global", dest="global_scope", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send")
    payload = send.add_mutually_exclusive_group(required=True)
    payload.add_argument("--text")
    payload.add_argument("--base64")
    send.add_argument("--timeout", type=float, default=0.0)
    for name in ("receive", "peek"):
        command = commands.add_parser(name)
        command.add_argument("--count", type=int, default=1)
        command.add_argument("--wait", type=float, default=0.0)
    args = parser.parse_args()
    path = rs.store_path(args.name, args.global_scope)
    try:
        queue = Queue(path)
        try:
            if args.command == "send":
                data = args.text.encode("utf-8") if args.text is not None else base64.b64decode(args.base64)
                version = queue.send(data, 1 if args.text is not None else 2, args.timeout)
                result = {"status": "sent", "version": version} if version is not None else {"status": "full"}
                code = 0 if version is not None else EXIT_FULL
            else:
                messages = queue.receive(args.count, args.wait, peek=args.command == "peek")
                result, code = {"status": "ok", "messages": messages}, 0
        finally:
            queue.close()
    except rs.Corrupted as e:
        result, code = {"status": "corrupted", "error": str(e)}, rs.EXIT_CORRUPTED
    except (OSError, TimeoutError, ValueError) as e:
        result, code = {"status": "error", "error": str(e)}, rs.EXIT_USAGE
    json.dump(result, sys.stdout, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
