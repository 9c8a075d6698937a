"""Reading delivered files from a folder or a zip archive, the same way for both."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ehr2omop.errors import UserError

CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One delivered file: its base name and where to read it."""

    name: str  # base file name, e.g. "patients.csv"
    source: Path  # the folder or zip it came from
    inner: str  # path inside the zip, or the file path for a folder
    size: int

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.source.is_dir():
            with open(self.inner, "rb") as fh:
                yield fh
        else:
            with zipfile.ZipFile(self.source) as zf, zf.open(self.inner) as fh:
                yield fh  # type: ignore[misc]

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.open() as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def header(self, delimiter: str = ",") -> list[str]:
        """The first line split into column names (BOM, quotes and whitespace removed)."""
        with self.open() as fh:
            first = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="").readline()
        if not first.strip():
            raise UserError(f"{self.source / self.name}: the file is empty (no header line); re-export it")
        return [c.strip().strip('"').strip() for c in first.rstrip("\r\n").split(delimiter)]


def list_members(source: Path, suffix: str = ".csv") -> list[Member]:
    """Files ending in ``suffix`` in a folder (not recursive) or anywhere in a zip."""
    if not source.exists():
        raise UserError(f"{source}: no such file or folder; give an extract folder or .zip")
    members: list[Member] = []
    if source.is_dir():
        for path in sorted(source.iterdir()):
            if path.is_file() and path.name.lower().endswith(suffix):
                members.append(Member(path.name, source, str(path), path.stat().st_size))
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                name = PurePosixPath(info.filename).name
                if not info.is_dir() and name.lower().endswith(suffix) and not name.startswith("._"):
                    members.append(Member(name, source, info.filename, info.file_size))
    else:
        raise UserError(f"{source}: neither a folder nor a zip archive; give an extract folder or .zip")
    names = [m.name.lower() for m in members]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"{source}: holds {', '.join(dupes)} more than once; keep one copy of each file")
    return members
