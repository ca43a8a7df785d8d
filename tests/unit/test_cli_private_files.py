"""The dev tokens file and the data directory are private: 0600 and 0700, created where nothing was,
never through a symbolic link planted at the path."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.private_files import create_private_file, make_private_dir
from cli.tokens import TokenFormatError, generate_token_set, load_or_create_tokens, write_tokens_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Everything readable by everyone unless the code asks otherwise."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_a_new_data_directory_is_0700_and_the_tokens_file_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    load_or_create_tokens(path=data_dir / "tokens.env", environ={})
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "tokens.env") == 0o600
    assert [entry.name for entry in data_dir.iterdir()] == ["tokens.env"]  # no temporary file left


@pytest.mark.usefixtures("open_umask")
def test_an_existing_data_directory_open_to_others_is_closed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o777)
    assert _mode(data_dir) == 0o777
    make_private_dir(data_dir)
    assert _mode(data_dir) == 0o700


def test_a_symlink_planted_at_the_tokens_path_is_neither_followed_nor_replaced(tmp_path: Path) -> None:
    data_dir = make_private_dir(tmp_path / "data")
    elsewhere = tmp_path / "world-readable.txt"
    (data_dir / "tokens.env").symlink_to(elsewhere)  # dangling: creating through it would write there
    with pytest.raises(TokenFormatError, match="symbolic link"):
        load_or_create_tokens(path=data_dir / "tokens.env", environ={})
    assert not elsewhere.exists()
    assert (data_dir / "tokens.env").is_symlink()


def test_a_symlink_to_an_existing_file_is_not_read_as_the_tokens_file(tmp_path: Path) -> None:
    data_dir = make_private_dir(tmp_path / "data")
    planted = tmp_path / "planted.env"
    planted.write_text("VIP_API_TOKENS=known-to-them=admin\n", encoding="utf-8")
    (data_dir / "tokens.env").symlink_to(planted)
    with pytest.raises(TokenFormatError, match="symbolic link"):
        load_or_create_tokens(path=data_dir / "tokens.env", environ={})
    assert planted.read_text(encoding="utf-8") == "VIP_API_TOKENS=known-to-them=admin\n"


def test_writing_never_replaces_a_file_already_there(tmp_path: Path) -> None:
    path = make_private_dir(tmp_path / "data") / "tokens.env"
    path.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_tokens_file(path, generate_token_set(source=str(path)))
    assert path.read_text(encoding="utf-8") == "keep me\n"
    with pytest.raises(FileExistsError):
        create_private_file(tmp_path / "data" / "tokens.env", "other\n")
    assert sorted(entry.name for entry in (tmp_path / "data").iterdir()) == ["tokens.env"]
