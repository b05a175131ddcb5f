#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal of a given width and prints everything it wrote, raw.

    pty_run.py COLUMNS COMMAND [ARGS...]

The exit code is the command's. Used by tests/test_report.cpp to see cachet's progress line as
a terminal of 60 or 120 columns does."""
import fcntl
import os
import pty
import struct
import sys
import termios


def main():
    columns = int(sys.argv[1])
    argv = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    out = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(bytes(out))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
