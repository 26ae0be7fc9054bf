"""The exclusive lock a training run holds on its checkpoint folder.

:class:`FolderLock` takes an ``fcntl.flock`` on a lock file (``seqkit-checkpoint.lock``
for a checkpoint folder) without blocking, writes the process id into it, and holds
it until :meth:`FolderLock.release`; a second run on the same folder is refused at
once, naming the process that holds it. On Windows, which has no ``flock``, folders
are not locked.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / LOCK_FILE
>>> lock = FolderLock(path)
>>> lock.acquire("Checkpoint folder 'run'")
>>> lock.held == (fcntl is not None)
True
>>> lock.release(); lock.held
False
"""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path
from typing import IO

from seqkit.errors import ModelFileError
from seqkit.files import one_line

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are not locked there
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "seqkit-checkpoint.lock"
"""The file a run holds an exclusive ``flock`` on while it uses the folder."""


class FolderLock:
    """An exclusive, non-blocking ``flock`` on the file ``path``, held until :meth:`release`.

    Args:
        path: the lock file (created if missing; never followed if a symbolic link).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        """Whether this lock holds its file now."""
        return self._handle is not None

    def acquire(self, where: str) -> None:
        """Hold an exclusive ``flock`` on the lock file, or refuse at once.

        Args:
            where: how messages name the folder, e.g. ``"Checkpoint folder 'run'"``.

        Raises:
            ModelFileError: the lock file cannot be opened or is not a regular file, or
                another run holds it.
        """
        if fcntl is None:
            return
        name = self.path.name
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
        try:
            handle = open(os.open(self.path, flags, 0o644), "r+b", buffering=0)  # noqa: SIM115 (held until release)
        except OSError as error:
            raise ModelFileError(
                f"{where} cannot be locked ({name}: {error.strerror or one_line(error)}). Give a writable folder."
            ) from None
        try:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ModelFileError(f"{where}: its {name} is not a regular file. Delete it, or give another folder.")
            if not _try_flock(handle):
                gc.collect()  # a run of this process that ended by an exception may hold it until collected
                if not _try_flock(handle):
                    owner = handle.read(32).decode("ascii", "replace").strip()
                    by = f" (process {owner})" if owner.isdigit() else ""
                    raise ModelFileError(
                        f"{where} is in use by another training run{by}. Wait for it to finish, or give another folder."
                    )
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode("ascii"))
        except BaseException as error:
            handle.close()
            if isinstance(error, OSError) and not isinstance(error, ModelFileError):
                reason = error.strerror or one_line(error)
                raise ModelFileError(f"{where} cannot be locked ({name}: {reason}).") from None
            raise
        self._handle = handle

    def release(self) -> None:
        """Unlock and close the lock file (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            finally:
                handle.close()


def _try_flock(handle: IO[bytes]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


__all__ = ["LOCK_FILE", "FolderLock"]
