"""The ``loudness`` option with real ffmpeg: the audio encode the pipeline runs (measure, encode,
package), metered afterwards by ffmpeg's own ebur128; and one whole job through the local stack."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.media.probe import probe
from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from devstack.client import Client
from tests.support.loudness import LOUD, QUIET, lag_of, loudness_of, make_clip, samples_of
from tests.support.media import TIMEOUT, ffmpeg_cmd
from tests.support.stack import run_job
from workers.media.encode import SEGMENT_LIST, encode_audio
from workers.media.loudness import Measurement, normalisation
from workers.media.package import package_audio
from workers.media.verify import AUDIO_TOLERANCE

TARGETS = (-16.0, -23.0)


@dataclass
class Encoded:
    """The audio rendition the pipeline made of a clip, joined into one file, and its facts."""

    path: Path
    samples: int  # decoded samples the segments hold (the priming frame excluded)
    plan: Plan
    measured: Measurement | None


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("loudness-clips")
    return {name: make_clip(folder / f"{name}.mp4", audio) for name, audio in (("quiet", QUIET), ("loud", LOUD))}


def encode(source: Path, loudness: float | None, folder: Path) -> Encoded:
    """What the audio task does (``encode_part._audio``): measure, encode, package the segments."""
    folder.mkdir()
    probed = probe(str(source))
    plan = plan_chunks(probed, EncodeOptions(loudness="off" if loudness is None else loudness))
    filters, measured = "", None
    if loudness is not None:
        filters, measured = normalisation(str(source), probed, loudness, timeout=TIMEOUT, workdir=str(folder))
    encode_audio(str(source), probed, plan, str(folder), timeout=TIMEOUT, loudness=filters)
    names = [line.split(",")[0] for line in (folder / SEGMENT_LIST).read_text().splitlines() if line]
    track = package_audio([str(folder / name) for name in names])
    joined = folder / "audio.mp4"
    joined.write_bytes(track.init + b"".join(track.segments[n] for n in sorted(track.segments)))
    return Encoded(joined, sum(track.durations) - AAC_FRAME, plan, measured)


@pytest.fixture(scope="module")
def unchanged(clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Encoded]:
    folder = tmp_path_factory.mktemp("loudness-off")
    return {name: encode(path, None, folder / name) for name, path in clips.items()}


def test_the_clips_are_quiet_and_loud(clips: dict[str, Path]) -> None:
    quiet, loud = loudness_of(clips["quiet"]), loudness_of(clips["loud"])
    assert -37 < quiet[0] < -31 and quiet[1] > -6  # quiet, with peaks
    assert -8 < loud[0] < -5 and loud[1] > -1  # loud, peaks at 0 dBFS


@pytest.mark.parametrize("name", ["quiet", "loud"])
def test_off_leaves_the_loudness_as_it_was(clips: dict[str, Path], unchanged: dict[str, Encoded], name: str) -> None:
    source, output = loudness_of(clips[name]), loudness_of(unchanged[name].path)
    assert output[0] == pytest.approx(source[0], abs=0.5)
    assert min(abs(output[0] - t) for t in TARGETS) > 5  # so the tests below can fail


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", ["quiet", "loud"])
def test_the_audio_is_normalised_to_the_target(clips: dict[str, Path], unchanged: dict[str, Encoded],
                                               tmp_path: Path, name: str, target: float) -> None:
    encoded = encode(clips[name], target, tmp_path / "on")
    assert encoded.measured is not None
    # The loud clip comes down with one gain; the quiet one's clicks need loudnorm's limiter.
    assert encoded.measured.linear(target) == (name == "loud")
    integrated, peak = loudness_of(encoded.path)
    print(f"{name} → {target}: {integrated} LUFS, {peak} dBTP")  # the numbers, with -s
    assert integrated == pytest.approx(target, abs=1.0)
    assert peak <= -1.0
    # Sample-exact: as long as without normalisation (and so within the stream's verification),
    # and on the same timeline.
    off = unchanged[name]
    assert encoded.samples == off.samples and off.plan.audio_duration is not None
    assert abs(encoded.samples - off.plan.audio_duration * AUDIO_RATE) <= AAC_FRAME + AUDIO_TOLERANCE * AUDIO_RATE
    assert abs(lag_of(samples_of(off.path), samples_of(encoded.path))) <= 1


def test_a_whole_job_is_normalised(stack: Any, clips: dict[str, Path], tmp_path: Path) -> None:
    client = Client(stack.api_url)
    status = run_job(client, clips["quiet"], {"x264_preset": "ultrafast", "outputs": ["mp4"], "loudness": -16})
    assert status["state"] == "done", status.get("error")
    assert status["options"]["loudness"] == -16
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    integrated, peak = loudness_of(out)
    print(f"job quiet → -16: {integrated} LUFS, {peak} dBTP")
    assert integrated == pytest.approx(-16, abs=1.0) and peak <= -1.0


def test_every_audio_track_is_normalised_on_its_own(stack: Any, clips: dict[str, Path], tmp_path: Path) -> None:
    # A quiet main track and a loud second one (a dub, a commentary): both end at the target.
    both = tmp_path / "two-tracks.mp4"
    proc = ffmpeg_cmd("-v", "error", "-i", str(clips["quiet"]), "-i", str(clips["loud"]), "-map", "0:v", "-map", "0:a",
                      "-map", "1:a", "-c", "copy", "-metadata:s:a:1", "language=fra", str(both))
    assert proc.returncode == 0, proc.stderr
    client = Client(stack.api_url)
    status = run_job(client, both, {"x264_preset": "ultrafast", "outputs": ["mp4"], "loudness": -23})
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    for track in (0, 1):
        integrated, peak = loudness_of(out, track)
        print(f"two tracks → -23, track {track}: {integrated} LUFS, {peak} dBTP")
        assert integrated == pytest.approx(-23, abs=1.0) and peak <= -1.0
