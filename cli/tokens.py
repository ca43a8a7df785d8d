"""Development API tokens for `vip up`, kept in `<data-dir>/tokens.env` so they survive restarts.

The file is a shell-sourceable env file (`set -a; . .vip-data/tokens.env`): `VIP_API_TOKENS` in the
format of interfaces.md (`token=role1+role2,token2=role3`) and `VIP_TOKEN`, the `dev` token that holds
every role, which `vip daily-run` and curl users pick up. It is written once and only read afterwards:
regenerating would silently invalidate tokens people have pasted elsewhere.
"""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cli.private_files import UnsafePath, create_private_file, make_private_dir, read_private_file
from shared.auth import ROLES as CONTRACT_ROLES

ROLES: tuple[str, ...] = tuple(sorted(CONTRACT_ROLES))
"""One source of roles: the services' (`shared.auth.ROLES`)."""
API_TOKENS_VAR = "VIP_API_TOKENS"
DEV_TOKEN_VAR = "VIP_TOKEN"


class TokenFormatError(ValueError):
    """A `VIP_API_TOKENS` value or a tokens file that does not follow the contract's format."""


@dataclass(frozen=True)
class TokenSet:
    api_tokens: str
    """The value given to every service as `VIP_API_TOKENS`."""
    dev_token: str | None
    """A token holding every role; unknown (None) when the tokens came from the environment."""
    source: str
    """Where the tokens came from, for the start-up banner: a file path or the environment."""


def parse_api_tokens(value: str) -> dict[str, tuple[str, ...]]:
    """Token -> roles; rejects empty tokens, unknown roles and a token given twice."""
    parsed: dict[str, tuple[str, ...]] = {}
    for raw_entry in value.split(","):
        entry = raw_entry.strip()
        if not entry:
            continue
        token, sep, roles_text = entry.partition("=")
        if not sep or not token or not roles_text:
            raise TokenFormatError(f"expected token=role1+role2, got {entry!r}")
        roles_text, _, _branch = roles_text.partition("@")  # a branch scope: checked by the services
        roles = tuple(role.strip() for role in roles_text.split("+"))
        unknown = [role for role in roles if role not in ROLES]
        if unknown:
            raise TokenFormatError(f"unknown role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}")
        if token in parsed:
            raise TokenFormatError("a token is listed twice")
        parsed[token] = roles
    return parsed


def format_api_tokens(tokens: Mapping[str, Sequence[str]]) -> str:
    return ",".join(f"{token}={'+'.join(roles)}" for token, roles in tokens.items())


def generate_token_set(*, source: str) -> TokenSet:
    """One token per role plus `dev` with all roles; tokens are URL-safe so they need no quoting."""
    tokens: dict[str, tuple[str, ...]] = {f"{role}-{secrets.token_urlsafe(18)}": (role,) for role in ROLES}
    dev_token = f"dev-{secrets.token_urlsafe(18)}"
    tokens[dev_token] = ROLES
    return TokenSet(api_tokens=format_api_tokens(tokens), dev_token=dev_token, source=source)


def read_tokens_file(path: Path) -> TokenSet:
    """Raises FileNotFoundError when there is no file, TokenFormatError for a bad one or a symlink."""
    try:
        text = read_private_file(path)
    except UnsafePath as unsafe:
        raise TokenFormatError(str(unsafe)) from unsafe
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise TokenFormatError(f"{path}: expected NAME=value, got {line!r}")
        values[name.strip()] = value.strip()
    api_tokens = values.get(API_TOKENS_VAR)
    if not api_tokens:
        raise TokenFormatError(f"{path}: {API_TOKENS_VAR} is missing")
    tokens = parse_api_tokens(api_tokens)
    dev_token = values.get(DEV_TOKEN_VAR) or None
    if dev_token is not None and dev_token not in tokens:
        raise TokenFormatError(f"{path}: {DEV_TOKEN_VAR} is not one of the tokens in {API_TOKENS_VAR}")
    return TokenSet(api_tokens=api_tokens, dev_token=dev_token, source=str(path))


def write_tokens_file(path: Path, token_set: TokenSet) -> None:
    """Created 0600 in a 0700 directory, whole or not at all; FileExistsError if anything is at `path`
    (a file, a symbolic link), which is never followed nor replaced."""
    make_private_dir(path.parent)
    body = (
        "# Development API tokens written once by `vip up` and reused on every start.\n"
        "# Delete this file to get new tokens. Load into a shell: set -a; . ./tokens.env; set +a\n"
        f"{API_TOKENS_VAR}={token_set.api_tokens}\n"
        f"{DEV_TOKEN_VAR}={token_set.dev_token or ''}\n"
    )
    create_private_file(path, body)


def load_or_create_tokens(*, path: Path, environ: Mapping[str, str]) -> TokenSet:
    """`VIP_API_TOKENS` from the environment wins as is; otherwise the file, created on first use."""
    from_env = environ.get(API_TOKENS_VAR)
    if from_env:
        parse_api_tokens(from_env)
        return TokenSet(api_tokens=from_env, dev_token=None, source=f"{API_TOKENS_VAR} from the environment")
    try:
        return read_tokens_file(path)
    except FileNotFoundError:
        pass
    token_set = generate_token_set(source=str(path))
    try:
        write_tokens_file(path, token_set)
    except FileExistsError:
        return read_tokens_file(path)  # another `vip up` wrote it meanwhile (or a symlink appeared: refused)
    return token_set
