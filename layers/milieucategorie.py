"""The milieucategorie model: categories, their order and richtafstanden, as data.

The default table is VNG *Bedrijven en milieuzonering* (2009), shipped in
``layers/data/milieucategorieen.csv``; another table with the same columns can replace it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_TABLE = Path(__file__).parent / "data" / "milieucategorieen.csv"
OMGEVINGSTYPEN = ("rustig", "gemengd")


@dataclass(frozen=True)
class Milieucategorie:
    """One row of the table."""

    code: str
    hoofdcategorie: int
    richtafstand_rustig_m: float
    richtafstand_gemengd_m: float

    @property
    def value(self) -> float:
        """Numeric value for ordering and thresholds (``4.1`` → 4.1, ``4`` → 4.0)."""
        return float(self.code)


@dataclass(frozen=True)
class MilieucategorieTable:
    """All categories of one model, in order."""

    rows: tuple[Milieucategorie, ...]
    source: str

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in table order."""
        return tuple(r.code for r in self.rows)

    def get(self, code: str) -> Milieucategorie:
        """The row of ``code``; KeyError names the known codes."""
        for row in self.rows:
            if row.code == code:
                return row
        raise KeyError(f"unknown milieucategorie {code!r}; known: {', '.join(self.codes)}")

    def normalise(self, value: object) -> str | None:
        """Canonical code for ``value`` (``'4,2'``, ``4.2``, ``' 4.2 '`` → ``'4.2'``), or None."""
        if value is None:
            return None
        if isinstance(value, float):
            if value != value:  # NaN
                return None
            text = f"{value:g}"
        else:
            text = str(value).strip().replace(",", ".")
            if text.endswith(".0"):
                text = text[:-2]
        return text if text in self.codes else None

    def richtafstand(self, code: str, omgevingstype: str = "rustig") -> float:
        """Richtafstand in metres of category ``code`` to ``omgevingstype`` (rustig/gemengd)."""
        row = self.get(code)
        if omgevingstype == "rustig":
            return row.richtafstand_rustig_m
        if omgevingstype == "gemengd":
            return row.richtafstand_gemengd_m
        raise KeyError(
            f"unknown omgevingstype {omgevingstype!r}; known: {', '.join(OMGEVINGSTYPEN)}"
        )

    def at_least(self, code: str, threshold: str) -> bool:
        """Whether ``code`` is ``threshold`` or heavier (numeric order, e.g. 4.1 ≥ 4)."""
        return self.get(code).value >= self.get(threshold).value


def load_table(path: Path | str | None = None) -> MilieucategorieTable:
    """Read a milieucategorie table (CSV with the columns of the default table)."""
    table_path = Path(path) if path else DEFAULT_TABLE
    return _load(str(table_path.resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> MilieucategorieTable:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for line, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                rows.append(
                    Milieucategorie(
                        code=rec["milieucategorie"].strip(),
                        hoofdcategorie=int(rec["hoofdcategorie"]),
                        richtafstand_rustig_m=float(rec["richtafstand_rustig_m"]),
                        richtafstand_gemengd_m=float(rec["richtafstand_gemengd_m"]),
                    )
                )
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"{path}, line {line}: bad milieucategorie row ({exc})") from exc
    if not rows:
        raise ValueError(f"{path}: no milieucategorieën")
    return MilieucategorieTable(rows=tuple(rows), source=path)
