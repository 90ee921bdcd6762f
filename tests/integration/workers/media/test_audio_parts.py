"""Parallel audio: a clip's audio encoded in parts (each with its pre-roll, cut at AAC frames) joins
into one stream as long as a whole-track encode's to the sample, decoding at every seam as well
as anywhere else, without a click. Measured on the MP4 the assembler makes of the joined segments."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from chalicelib.model.kinds import audio_part
from chalicelib.model.options import EncodeOptions
from tests.support.media import Transcode, transcode
from tests.support.seams import PROGRAMME, TONE, decoded, make_clip, measure, reference, seam_samples

OPTIONS = EncodeOptions()


@dataclass(frozen=True)
class Case:
    audio: str
    rate: int
    channels: int
    seconds: float = 21.0
    part_seconds: float = 6.0  # 4 parts (splits at 6, 12 and 18 s) on 2 s segments
    first_segments: tuple[int, ...] = (0, 3, 6, 9)


CASES = {
    "tone-44.1k-stereo": Case(TONE, 44_100, 2),  # resampled: every part's resampler sees the same samples
    "programme-48k-5.1": Case(PROGRAMME, 48_000, 6),  # downmixed
    "programme-44.1k-stereo": Case(PROGRAMME, 44_100, 2),
    # Production's minute-long parts: an encoder a minute into a steady tone has settled its rate
    # control where a part's, after its pre-roll, must have too (a 3 s pre-roll was 6 dB short here).
    "tone-44.1k-stereo-minutes": Case(TONE, 44_100, 2, 150.0, 60.0, (0, 30, 60)),
}

Encoded = tuple[str, Transcode, Transcode, np.ndarray]


@pytest.fixture(scope="module", params=sorted(CASES))
def encoded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    name = request.param
    case = CASES[name]
    work = tmp_path_factory.mktemp(name)
    clip = make_clip(work / "clip.mp4", case.audio, case.seconds, case.rate, case.channels)
    (work / "parts").mkdir()
    (work / "whole").mkdir()
    parts = transcode(str(clip), OPTIONS, work / "parts", audio_part_seconds=case.part_seconds)
    whole = transcode(str(clip), OPTIONS, work / "whole", audio_part_seconds=0)
    return name, parts, whole, reference(clip, parts.probe, work / "reference.wav")


def _durations(result: Transcode) -> list[int]:
    return [d for part in result.plan.audio_parts
            for d in result.parts[audio_part(part.index)]["tracks"]["audio"]["durations"]]


def test_the_audio_is_planned_in_parts_with_a_pre_roll(encoded: Encoded) -> None:
    name, parts, whole, _ = encoded
    assert tuple(p.first_segment for p in parts.plan.audio_parts) == CASES[name].first_segments
    assert len(whole.plan.audio_parts) == 1
    assert all(p.input_start < p.start - 1024 for p in parts.plan.audio_parts[1:])


def test_parts_make_the_segments_a_whole_track_encode_makes(encoded: Encoded) -> None:
    _, parts, whole, _ = encoded
    # The same packets in each segment, every segment cut at the same AAC frame.
    assert _durations(parts) == _durations(whole)
    assert parts.index.audio is not None and whole.index.audio is not None
    assert parts.index.audio.durations == whole.index.audio.durations


def test_the_joined_audio_is_as_long_as_the_whole_track_encode_to_the_sample(encoded: Encoded,
                                                                             tmp_path: Path) -> None:
    _, parts, whole, ref = encoded
    joined, once = decoded(parts.output), decoded(whole.output)
    assert joined.shape == once.shape
    # And as long as the source, to within the AAC frame its last packet pads.
    assert abs(joined.shape[1] - ref.shape[1]) < 1024


def test_every_seam_decodes_as_well_as_elsewhere_and_without_a_click(encoded: Encoded) -> None:
    name, parts, whole, ref = encoded
    seams = seam_samples(parts.plan)
    joined = measure(decoded(parts.output), ref, seams)
    once = measure(decoded(whole.output), ref, seams)  # the same windows, encoded at once
    print(f"\n{name}: parts {joined.to_dict()}\n{name}: whole {once.to_dict()}")
    # The worst window at a seam is no worse than the codec's usual bad windows elsewhere. (The
    # parts' encoders follow their own rate-control paths: their SNR away from the seams differs
    # from a whole-track encode's by a few dB either way; BENCHMARKS.md reports both.)
    assert joined.seam_snr_db >= joined.elsewhere_p5_snr_db - 1.0
    # A click is a peak in the difference from the source: none above what the codec leaves anywhere.
    assert joined.seam_peak <= 1.1 * max(joined.elsewhere_peak, once.seam_peak)
