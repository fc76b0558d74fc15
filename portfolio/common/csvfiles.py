"""Reading an uploaded CSV file the same way in every import: the text, its headings, and what is
wrong with its first line. Each import reports problems with their line numbers itself."""

import re
from collections.abc import Sequence
from typing import IO


class UnreadableFile(Exception):
    """The upload is not UTF-8 text; ``line`` is where decoding failed."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def read_text(file: IO[bytes] | IO[str]) -> str:
    """The file's text without a byte-order mark (spreadsheets write one)."""
    raw = file.read()
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableFile(line, "The file is not UTF-8 text (save it as CSV UTF-8).") from error


def column_name(heading: str) -> str:
    """A heading as a column name: "Key result " and "key-result" are both ``key_result``."""
    return re.sub(r"[\s\-]+", "_", heading.strip().lower())


def header_problem(
    header: Sequence[str], *, required: Sequence[str], columns: Sequence[str]
) -> str | None:
    """What is wrong with a file's first line (missing, unknown or repeated columns), or None."""
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if not (missing or unknown or repeated):
        return None
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(h or '(empty heading)' for h in unknown)}")
    if repeated:
        problems.append(f"repeated {', '.join(repeated)}")
    optional = [c for c in columns if c not in required]
    note = (
        f" ({', '.join(optional)} {'is' if len(optional) == 1 else 'are'} optional)"
        if optional
        else ""
    )
    return (
        f"The first line must name the columns {', '.join(columns)}{note}: {'; '.join(problems)}."
    )
