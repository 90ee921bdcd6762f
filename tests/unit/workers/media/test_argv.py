"""Pure argv builder tests (no ffmpeg binary involved)."""

from __future__ import annotations

import pytest

from chalicelib.model.errors import MediaError
from chalicelib.model.facts import AudioInfo, ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.probes import make_probe
from workers.media.binary import ffmpeg_binary
from workers.media.encode import audio_argv, chunk_argv, single_pass_argv
from workers.media.mux import assemble_argv, concat_list

OPTIONS = EncodeOptions(crf=20, x264_preset="fast", chunk_seconds=2)


@pytest.fixture(autouse=True)
def fake_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFMPEG_BINARY", "/opt/ffmpeg")


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def probe_30fps(**kwargs: object) -> ProbeResult:
    return make_probe(tuple(i / 30 for i in range(300)), **kwargs)


@pytest.mark.parametrize(
    ("source", "protocols"),
    [("/tmp/in.mp4", "file"), ("https://bucket.s3.amazonaws.com/in.mp4?X-Amz-Signature=abc", "http,https,tcp,tls")],
)
def test_chunk_argv_hardens_input(source: str, protocols: str) -> None:
    probe = probe_30fps()
    plan = plan_chunks(probe, OPTIONS)
    argv = chunk_argv(source, plan.chunks[1], plan, OPTIONS, "/tmp/out.mp4")
    assert argv[0] == "/opt/ffmpeg"
    assert argv[1:6] == ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    assert flag(argv, "-protocol_whitelist") == protocols
    formats = flag(argv, "-format_whitelist").split(",")
    assert {"mov", "mp4", "matroska", "webm", "avi", "mpegts"} <= set(formats)
    assert not {"hls", "concat", "image2", "data", "subfile", "tee", "lavfi"} & set(formats)
    assert "hls" not in protocols and "concat" not in protocols and "data" not in protocols
    assert flag(argv, "-max_streams") == "16"
    assert int(flag(argv, "-probesize")) > 0 and int(flag(argv, "-analyzeduration")) > 0
    # Hardening options and the seek precede the input they apply to.
    assert argv.index("-ss") < argv.index("-protocol_whitelist") < argv.index("-i")
    assert flag(argv, "-i") == source
    assert argv[-1] == "/tmp/out.mp4"


def test_chunk_argv_exact_frames_and_encoder_settings() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    chunk = plan.chunks[2]
    argv = chunk_argv("/in.mov", chunk, plan, OPTIONS, "/out.mp4")
    assert flag(argv, "-ss") == f"{chunk.seek:.6f}"
    assert float(flag(argv, "-ss")) == pytest.approx((119.5) / 30)
    assert flag(argv, "-frames:v") == str(chunk.frame_count) == "60"
    assert flag(argv, "-fps_mode") == "passthrough"
    assert flag(argv, "-map") == "0:0"
    assert "-an" in argv and "-sn" in argv
    assert flag(argv, "-c:v") == "libx264"
    assert flag(argv, "-preset") == "fast" and flag(argv, "-crf") == "20"
    assert flag(argv, "-profile:v") == "high" and flag(argv, "-pix_fmt") == "yuv420p"
    assert flag(argv, "-g") == flag(argv, "-keyint_min") == str(plan.gop_frames) == "60"
    assert flag(argv, "-sc_threshold") == "0" and flag(argv, "-flags") == "+cgop"
    assert flag(argv, "-x264-params") == "8x8dct=1"  # keeps High even with ultrafast
    vf = flag(argv, "-vf")
    assert f"scale={plan.width}:{plan.height}" in vf and "format=yuv420p" in vf and "setpts=PTS-STARTPTS" in vf
    assert "trim=" not in vf


def test_encoder_flags_identical_across_chunks() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)

    def encoder_part(argv: list[str]) -> list[str]:
        return argv[argv.index("-c:v") : -1]

    parts = {tuple(encoder_part(chunk_argv("/in", c, plan, OPTIONS, "/o"))) for c in plan.chunks}
    assert len(parts) == 1


def test_first_chunk_has_no_seek_and_preroll_uses_trim() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    assert "-ss" not in chunk_argv("/in", plan.chunks[0], plan, OPTIONS, "/o")
    ts_plan = plan_chunks(probe_30fps(format_name="mpegts"), OPTIONS)
    chunk = ts_plan.chunks[3]
    argv = chunk_argv("/in.ts", chunk, ts_plan, OPTIONS, "/o")
    assert float(flag(argv, "-ss")) < 179.5 / 30 and "-copyts" in argv
    assert chunk.keep_from == pytest.approx(179.5 / 30)  # first_pts 0: the source's own time of the cut
    assert flag(argv, "-vf").startswith(f"trim=start={chunk.keep_from:.6f},")


def test_audio_argv_aligns_to_first_video_frame() -> None:
    probe = probe_30fps(start_time=1.0, first_pts=1.25, audio=True)
    argv = audio_argv("/in.ts", probe, OPTIONS, "/a.m4a")
    assert flag(argv, "-map") == "0:1"
    assert "-ss" not in argv  # audio is trimmed by filter, not by (imprecise) seeking
    assert flag(argv, "-af") == (
        "atrim=start=0.250000,asetpts=PTS-0.250000/TB,aresample=48000:async=1:min_hard_comp=0.02:first_pts=0"
    )
    assert flag(argv, "-ac") == "2" and flag(argv, "-c:a") == "aac" and flag(argv, "-b:a") == "128k"
    assert flag(argv, "-profile:a") == "aac_low"
    assert "-vn" in argv and flag(argv, "-protocol_whitelist") == "file"


def test_audio_argv_without_offset_only_resamples() -> None:
    argv = audio_argv("/in.mp4", probe_30fps(audio=True), OPTIONS, "/a.m4a")
    assert flag(argv, "-af").startswith("aresample=48000")


def test_audio_argv_requires_audio() -> None:
    with pytest.raises(MediaError, match="no audio"):
        audio_argv("/in.mp4", probe_30fps(), OPTIONS, "/a.m4a")


def test_concat_list_quotes_paths_and_carries_durations() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    paths = [f"/w/it's chunk {c.index}.mp4" for c in plan.chunks]
    text = concat_list(paths, plan.chunks)
    lines = text.splitlines()
    assert lines[0] == "ffconcat version 1.0"
    assert lines[1] == "file '/w/it'\\''s chunk 0.mp4'"
    durations = [float(line.split()[1]) for line in lines if line.startswith("duration ")]
    assert durations == pytest.approx([c.duration for c in plan.chunks], abs=1e-6)
    with pytest.raises(MediaError):
        concat_list(paths[:-1], plan.chunks)


def test_assemble_argv_copies_with_faststart_and_file_only() -> None:
    argv = assemble_argv("/w/list.ffconcat", "/w/a.m4a", "/w/out.mp4")
    assert argv[argv.index("-f") + 1] == "concat"
    assert flag(argv, "-safe") == "0"
    whitelist_values = [argv[i + 1] for i, a in enumerate(argv) if a == "-protocol_whitelist"]
    assert whitelist_values == ["file", "file"]
    assert flag(argv, "-c") == "copy" and flag(argv, "-movflags") == "+faststart"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-map"] == ["0:v:0", "1:a:0"]
    no_audio = assemble_argv("/w/list.ffconcat", None, "/w/out.mp4")
    assert "1:a:0" not in no_audio and no_audio.count("-i") == 1


def test_builders_resolve_binary_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFMPEG_BINARY", "/custom/ffmpeg")
    assert ffmpeg_binary() == "/custom/ffmpeg"
    monkeypatch.delenv("FFMPEG_BINARY")
    assert ffmpeg_binary().endswith(("ffmpeg", ".exe")) or "ffmpeg" in ffmpeg_binary()


def test_audio_info_round_trip() -> None:
    info = AudioInfo(index=2, codec="vorbis", channels=6, sample_rate=48000, start=0.5, duration=3.0)
    assert AudioInfo.from_dict(info.to_dict()) == info


def test_single_pass_argv_uses_the_chunk_encoder_settings() -> None:
    probe = probe_30fps(start_time=1.0, first_pts=1.25, audio=True)
    plan = plan_chunks(probe, OPTIONS)
    argv = single_pass_argv("/in.mp4", probe, plan, OPTIONS, "/ref.mp4")
    chunk = chunk_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/c.mp4")
    audio = audio_argv("/in.mp4", probe, OPTIONS, "/a.m4a")
    # Same hardened input, the same x264 flags and video filter, the same audio chain.
    assert argv[: argv.index("-i") + 2] == chunk[: chunk.index("-i") + 2]
    x264 = chunk[chunk.index("-c:v") : chunk.index("-f")]
    assert argv[argv.index("-c:v") : argv.index("-c:v") + len(x264)] == x264
    assert flag(argv, "-vf") == flag(chunk, "-vf") and "trim=" not in flag(argv, "-vf")
    assert flag(argv, "-fps_mode") == "passthrough" and "-frames:v" not in argv and "-ss" not in argv
    for name in ("-af", "-ac", "-c:a", "-profile:a", "-b:a"):
        assert flag(argv, name) == flag(audio, name)
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-map"] == ["0:0", "0:1"]
    assert flag(argv, "-movflags") == "+faststart" and argv[-3:] == ["-f", "mp4", "/ref.mp4"]
    silent = single_pass_argv("/in.mp4", probe_30fps(), plan, OPTIONS, "/ref.mp4")
    assert "-af" not in silent and "-c:a" not in silent
