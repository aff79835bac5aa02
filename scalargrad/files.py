"""Writing files safely: atomically, and never to something that would block or is not a file.

Every file scalargrad writes (diagrams, frames, animations, the step-through page,
and the command line's outputs) goes through :func:`write_atomic`:

* the path is checked first (:func:`check_writable`): a FIFO (opening it would
  block until a reader comes), a character or block device, a socket or a
  directory is refused with an :class:`UnwritablePathError` naming the path;
* the data go to a temporary file in the same directory, which is renamed over
  the target (``os.replace``) only once it is complete and flushed, so a full
  disk or a file-size limit leaves the old file as it was and no temporary
  file behind.

A symbolic link to a regular file is followed: the file it points to is
replaced, the link stays. The engine core does not import this module; the
visualizer and the command line do.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["UnwritablePathError", "check_writable", "shown_path", "special_kind", "write_atomic"]


class UnwritablePathError(OSError):
    """A path that scalargrad will not write to (a FIFO, a device, a directory, a missing parent)."""


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular file is (``"a FIFO (named pipe)"``), or None for a regular one."""
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "a special file"


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as printed in messages: as is, or ``repr``-escaped if it holds a control character
    (a newline in a file name would otherwise split the message's line)."""
    text = os.fspath(path)
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 for c in text):
        return repr(text)
    return text


def check_writable(path: str | os.PathLike[str], *, probe: bool = False) -> Path:
    """The path a file is to be written to, checked without blocking: the real path to replace.

    Raises :class:`UnwritablePathError` (an OSError; the message names the path) when
    ``path`` is a FIFO, a device, a socket or a directory, a broken symbolic link, an
    existing file without write permission (which a rename would otherwise replace),
    or when its directory is missing or not a directory. ``probe=True`` also creates and
    removes a temporary file in that directory, to find out before any work whether
    the file can be written there at all (permissions, a read-only file system).
    A symbolic link to a regular file resolves to that file.
    """
    shown = shown_path(path)
    target = Path(path)
    try:
        info = os.stat(target)  # follows links; never opens the file, so never blocks
    except FileNotFoundError:
        if os.path.lexists(target):
            raise UnwritablePathError(f"{shown}: a broken symbolic link") from None
        info = None
    except NotADirectoryError:
        raise UnwritablePathError(f"{shown}: {shown_path(target.parent)} is not a directory") from None
    except OSError as e:
        raise UnwritablePathError(f"{shown}: {e.strerror or e}") from None
    if info is not None:
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise UnwritablePathError(f"{shown}: {kind}, not a regular file")
        if not os.access(target, os.W_OK):  # replacing it would bypass its read-only mode
            raise UnwritablePathError(f"{shown}: cannot write it: permission denied")
        if target.is_symlink():
            target = Path(os.path.realpath(target))
    parent = target.parent
    if not parent.exists():
        raise UnwritablePathError(f"{shown}: the directory {shown_path(parent)} does not exist")
    if not parent.is_dir():
        raise UnwritablePathError(f"{shown}: {shown_path(parent)} is not a directory")
    if probe:
        try:
            fd, temporary = tempfile.mkstemp(dir=parent, prefix=f".{target.name[:64]}.", suffix=".tmp")
        except OSError as e:
            raise UnwritablePathError(f"{shown}: cannot write it: {e.strerror or e}") from None
        os.close(fd)
        os.unlink(temporary)
    return target


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (str as UTF-8) to ``path`` atomically; return the path as given.

    The path is checked by :func:`check_writable`; the data are written to a
    temporary file beside it, flushed to disk, and renamed into place. Any failure
    (a full disk, a file-size limit, an interrupt) removes the temporary file and
    leaves an existing file untouched. A new file gets the usual permissions (0o666
    less the umask); a replaced one keeps its own.
    """
    given = Path(path)
    target = check_writable(given)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp")
    try:
        with open(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return given


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
