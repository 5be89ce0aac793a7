"""The teaching figures: tools/make_figures.py must reproduce the committed imgs/*.png byte for byte."""

from __future__ import annotations

import runpy
import struct
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "make_figures.py"
COMMITTED = ROOT / "imgs"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def script() -> dict:
    """The script's namespace, loaded in-process (not as __main__, so nothing runs on import)."""
    return runpy.run_path(str(SCRIPT), run_name="make_figures")


@pytest.fixture(scope="module")
def generated(script, tmp_path_factory) -> dict[str, Path]:
    outdir = tmp_path_factory.mktemp("figures")
    paths = script["main"](outdir)
    return {p.name: p for p in paths}


def _png_chunks(data: bytes):
    """Yield (type, payload) for every chunk, checking each CRC on the way."""
    assert data[:8] == PNG_MAGIC, "not a PNG signature"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        payload = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in {kind!r} chunk"
        yield kind, payload
        pos += 12 + length


def test_script_writes_the_four_figures(script, generated):
    assert tuple(generated) == tuple(script["FIGURES"])
    assert len(generated) == 4
    for path in generated.values():
        assert path.is_file()


@pytest.mark.parametrize("name", [
    "attention_bidirectional_vs_causal.png",
    "encoder_decoder_cross_attention.png",
    "text_to_text_format.png",
    "instruction_tuning_mixture.png",
])
def test_figure_is_a_valid_png_of_reasonable_size(generated, name):
    data = generated[name].read_bytes()
    assert 10_000 < len(data) < 250_000, f"{name}: {len(data)} bytes"
    chunks = list(_png_chunks(data))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert 800 <= width <= 1400, f"{name}: {width} px wide"
    assert 300 <= height <= 1000, f"{name}: {height} px high"
    # the pixels decompress, and no tool name or timestamp is stamped in (that would break determinism)
    zlib.decompress(b"".join(payload for kind, payload in chunks if kind == b"IDAT"))
    assert b"tIME" not in kinds
    assert b"Software" not in data


@pytest.mark.parametrize("name", [
    "attention_bidirectional_vs_causal.png",
    "encoder_decoder_cross_attention.png",
    "text_to_text_format.png",
    "instruction_tuning_mixture.png",
])
def test_committed_figure_matches_the_script(generated, name):
    committed = COMMITTED / name
    assert committed.is_file(), f"imgs/{name} is missing: run `make figures` and commit it"
    assert generated[name].read_bytes() == committed.read_bytes(), (
        f"imgs/{name} differs from what tools/make_figures.py draws: run `make figures` and commit it"
    )


def test_cli_outdir(script, tmp_path, capsys):
    script["_cli"](["--outdir", str(tmp_path / "cli")])
    assert sorted(p.name for p in (tmp_path / "cli").glob("*.png")) == sorted(script["FIGURES"])
    assert "KB" in capsys.readouterr().out


def test_script_leaves_matplotlib_settings_alone(script, tmp_path):
    import matplotlib

    before = matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.hashsalt"]
    script["main"](tmp_path)
    assert (matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.hashsalt"]) == before
