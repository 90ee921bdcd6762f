"""ffmpeg_layer/build.py: the real layer runs ffmpeg and encodes; the zip is reproducible."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import av
import pytest

from tests.infra.helpers import ROOT


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ffmpeg_layer_build", ROOT / "ffmpeg_layer" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build = load_builder()


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer") / "ffmpeg-layer.zip"
    result = subprocess.run([sys.executable, "ffmpeg_layer/build.py", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ffmpeg 9.0.2" in result.stdout
    return out


@pytest.fixture(scope="module")
def opt(layer: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer unpacked as Lambda does (under /opt), permissions kept."""
    root = tmp_path_factory.mktemp("opt")
    with zipfile.ZipFile(layer) as zf:
        for info in zf.infolist():
            zf.extract(info, root)
            os.chmod(root / info.filename, (info.external_attr >> 16) & 0o777)
    return root


def test_layer_is_within_lambda_limits_and_pinned(layer: Path) -> None:
    with zipfile.ZipFile(layer) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {"bin/", "bin/ffmpeg", "THIRD_PARTY_NOTICES.txt"}
    assert sum(i.file_size for i in infos.values()) < build.LAMBDA_UNZIPPED_LIMIT
    assert (infos["bin/ffmpeg"].external_attr >> 16) & 0o777 == 0o755
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos.values())
    digest = hashlib.sha256(layer.read_bytes()).hexdigest()
    assert layer.with_name(layer.name + ".sha256").read_text().split()[0] == digest


def test_layer_ffmpeg_is_the_projects_ffmpeg(opt: Path) -> None:
    import imageio_ffmpeg

    ffmpeg = opt / "bin" / "ffmpeg"
    version = subprocess.run([str(ffmpeg), "-hide_banner", "-version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("ffmpeg version")
    assert "--enable-libx264" in version.stdout
    assert ffmpeg.read_bytes() == Path(imageio_ffmpeg.get_ffmpeg_exe()).read_bytes()


def test_layer_ffmpeg_encodes_a_one_second_clip(opt: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = subprocess.run([str(opt / "bin" / "ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error",
                             "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=1",
                             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
                             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                             "-movflags", "+faststart", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264" and container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_zip_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    fake = {"binary": b"\x7fELF fake ffmpeg", "binary_name": "ffmpeg-linux-x86_64-v9"}
    first = build.build(tmp_path / "a" / "layer.zip", **fake)
    second = build.build(tmp_path / "b" / "layer.zip", **fake)
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as zf:
        assert zf.namelist() == ["bin/", "THIRD_PARTY_NOTICES.txt", "bin/ffmpeg"]


def test_oversized_layer_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "LAMBDA_UNZIPPED_LIMIT", 1000)
    with pytest.raises(SystemExit, match="over Lambda"):
        build.build(tmp_path / "big.zip", binary=os.urandom(2000), binary_name="ffmpeg-linux-x86_64-v9")
    assert not (tmp_path / "big.zip").exists()


def test_builder_pin_matches_the_project() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"imageio-ffmpeg=={build.IMAGEIO_FFMPEG_VERSION}"' in pyproject
