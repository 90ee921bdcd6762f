"""A long audio through the whole local stack: encoded in parallel parts by the processors (each a
task of its own, queued before the chunks), published as one audio rendition and joined into the
MP4's track, as long as the source's and with seams no worse than the rest."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import m3u8
import pytest
import requests

from devstack.client import Client
from tests.support.seams import PROGRAMME, decoded, make_clip, measure, reference, seam_samples
from tests.support.stack import run_job

SECONDS = 150.0  # 3 parts of the stack's 60 s (splits at 60 and 120 s)
FAST = {"x264_preset": "ultrafast", "outputs": ["hls", "mp4"]}


@pytest.fixture(scope="module")
def client(stack: Any) -> Client:
    return Client(stack.api_url)


def test_a_long_audio_is_encoded_in_parts_and_joins_into_one_track(client: Client, tmp_path: Path) -> None:
    from chalicelib.media.probe import probe
    from chalicelib.model.kinds import is_audio_part
    from chalicelib.model.options import EncodeOptions
    from chalicelib.model.plan import plan_chunks

    clip = make_clip(tmp_path / "long.mp4", PROGRAMME, SECONDS)
    status = run_job(client, clip, FAST)
    assert status["state"] == "done", status.get("error")
    assert {name for name in status["parts"] if is_audio_part(name)} == {"audio", "a00001", "a00002"}
    assert all(part["state"] == "done" for part in status["parts"].values())
    assert status["progress"]["percent"] == 100.0

    # The stream: one audio rendition, segment for segment beside the video.
    base = status["playback_url"].rsplit("/", 1)[0]
    master = m3u8.loads(requests.get(status["playback_url"], timeout=10).text)
    audio_uri = next(m.uri for m in master.media if m.type == "AUDIO")
    audio = m3u8.loads(requests.get(f"{base}/{audio_uri}", timeout=10).text)
    video = m3u8.loads(requests.get(f"{base}/{master.playlists[0].uri}", timeout=10).text)
    assert len(audio.segments) == len(video.segments) == 75
    assert sum(s.duration for s in audio.segments) == pytest.approx(SECONDS, abs=0.05)

    # The MP4: its audio as long as a whole-track encode's, to the sample, seams like the rest.
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    probed = probe(str(clip))
    plan = plan_chunks(probed, EncodeOptions(**FAST))  # what the chunker planned (the stack's 60 s parts)
    assert [p.first_segment for p in plan.audio_parts] == [0, 30, 60]
    pcm, ref = decoded(out), reference(clip, probed, tmp_path / "reference.wav")
    assert abs(pcm.shape[1] - ref.shape[1]) < 1024
    seams = measure(pcm, ref, seam_samples(plan))
    print(f"\nstack, 3 parts: {seams.to_dict()}")
    assert seams.seam_snr_db >= seams.elsewhere_p5_snr_db - 1.0
    assert seams.seam_peak <= 1.1 * seams.elsewhere_peak
