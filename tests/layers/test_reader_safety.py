"""Reading files safely without a database: archives that lie about their size, CSV text in
other encodings, Z and M values (dropped with a note, also when the file is reprojected)."""

from __future__ import annotations

import json
import struct
import zipfile

import pytest

from app.settings import import_policy
from layers.errors import FileTooLarge, UnreadableFile
from layers.importer import PrepareOptions, prepare
from layers.kinds import load_kinds
from layers.readers import read_source

CSV = "naam;sbi_code;milieucategorie;wkt\nWerkplaats;2511;3.1;POINT (136000 455000)\n"


def lying_zip(path, member: str, data: bytes, claimed: int):
    """A zip whose headers (local and central) claim ``claimed`` bytes for ``member``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    raw = bytearray(path.read_bytes())
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, claimed)
    struct.pack_into("<I", raw, central + 24, claimed)
    path.write_bytes(bytes(raw))
    assert zipfile.ZipFile(path).getinfo(member).file_size == claimed
    return path


def test_a_zip_that_lies_about_its_size_stops_at_the_limit(tmp_path):
    big = CSV.encode() + b"x" * 3_000_000
    path = lying_zip(tmp_path / "klein.zip", "klein.csv", big, claimed=len(CSV))
    with pytest.raises(FileTooLarge) as info:
        read_source(path, None, max_bytes=1_000_000)
    message = info.value.message
    assert "klein.csv" in message and "the limit of 1 MB" in message
    assert f"header says {len(CSV):,} bytes" in message


def test_a_zip_that_lies_under_the_limit_is_refused_as_forged(tmp_path):
    data = CSV.encode() + b"# padding\n" * 100
    path = lying_zip(tmp_path / "vals.zip", "vals.csv", data, claimed=len(CSV))
    with pytest.raises(UnreadableFile, match=r"unpacks to [\d,]+ bytes but its header says"):
        read_source(path, None, max_bytes=10_000_000)


def test_an_honest_zip_is_read(tmp_path):
    path = tmp_path / "goed.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("goed.csv", CSV)
    source = read_source(path, None, max_bytes=1_000_000)
    assert list(source.frame["naam"]) == ["Werkplaats"]


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-16", b"", "UTF-16"),
        ("utf-16-le", b"", "UTF-16 (little-endian"),
        ("utf-16-be", b"", "UTF-16 (big-endian"),
        ("utf-32", b"", "UTF-32"),
        ("cp1252", b"", "Windows-1252"),
    ],
)
def test_csv_in_other_encodings_is_read_with_a_note(tmp_path, encoding, bom, label):
    path = tmp_path / "vestigingen.csv"
    path.write_bytes(bom + CSV.replace("Werkplaats", "Werkplaats Düsseldorf").encode(encoding))
    source = read_source(path, None, None)
    assert list(source.frame["naam"]) == ["Werkplaats Düsseldorf"]
    assert any(n.startswith("text read as " + label) for n in source.notes), source.notes


def test_csv_with_nul_bytes_names_the_encoding(tmp_path):
    path = tmp_path / "kapot.csv"
    path.write_bytes(CSV.encode() + b"\x00\x01\x02 binary tail")
    with pytest.raises(UnreadableFile, match="NUL characters when read as UTF-8"):
        read_source(path, None, None)


def test_z_values_are_dropped_with_a_note_also_when_reprojected(tmp_path):
    path = tmp_path / "z.geojson"
    feature = {
        "type": "Feature",
        "properties": {"naam": "Hoog", "sbi_code": "2511", "milieucategorie": "3.1"},
        "geometry": {"type": "Point", "coordinates": [5.1, 52.1, 7.0]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    source = read_source(path, None, None)
    prepared = prepare(source, load_kinds()["vestigingen"], PrepareOptions(), import_policy())
    assert "dropped Z values from 1 feature(s): storage is 2D" in prepared.notes
    assert not prepared.features.geometries[0].has_z
