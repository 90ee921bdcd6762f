"""Pure argv builder tests (no ffmpeg binary involved)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import AudioInfo, ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.probes import make_probe
from workers.media.binary import ffmpeg_binary
from workers.media.encode import (
    CMAF_MOVFLAGS,
    audio_segments_argv,
    audio_start_offset,
    codec_args,
    ladder_argv,
    single_pass_argv,
)
from workers.media.mux import remux_argv

OPTIONS = EncodeOptions(crf=20, x264_preset="fast", chunk_seconds=2)


def chunk_argv(source: str, chunk: object, plan: object, options: EncodeOptions, out_dir: str) -> list[str]:
    return ladder_argv(source, chunk, plan, options, out_dir)  # type: ignore[arg-type]


def output_args(argv: list[str], index: int) -> list[str]:
    """The options of the ``index``-th output (from its ``-map`` to its file name)."""
    starts = [i for i, a in enumerate(argv) if a == "-map"]
    end = starts[index + 1] if index + 1 < len(starts) else len(argv)
    return argv[starts[index]:end]


def audio_argv(source: str, probe: ProbeResult, options: EncodeOptions, out: str) -> list[str]:
    return audio_segments_argv(source, probe, plan_chunks(probe, options), "/w")


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
    argv = chunk_argv(source, plan.chunks[1], plan, OPTIONS, "/tmp")
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
    assert argv[-1] == f"/tmp/{plan.rungs[-1].id}.mp4"


def test_chunk_argv_decodes_once_and_encodes_every_rung() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    chunk = plan.chunks[2]
    argv = chunk_argv("/in.mov", chunk, plan, OPTIONS, "/w")
    assert flag(argv, "-ss") == f"{chunk.seek:.6f}"
    assert float(flag(argv, "-ss")) == pytest.approx((119.5) / 30)
    assert argv.count("-i") == 1
    graph = flag(argv, "-filter_complex")
    assert graph.startswith(f"[0:0]setpts=PTS-STARTPTS,split={len(plan.rungs)}") and "trim=" not in graph
    for i, rung in enumerate(plan.rungs):
        scale = f"scale={rung.width}:{rung.height}:flags=bicubic:out_range=tv"
        assert f"[s{i}]{scale},setsar=1,format=yuv420p[v{i}]" in graph
        out = output_args(argv, i)
        assert out[:2] == ["-map", f"[v{i}]"] and out[-1] == f"/w/{rung.id}.mp4"
        assert flag(out, "-frames:v") == str(chunk.frame_count) == "60"
        assert flag(out, "-fps_mode") == "passthrough" and "-an" in out and "-sn" in out
        assert flag(out, "-video_track_timescale") == str(plan.timescale) == "30000"
        assert flag(out, "-movflags") == CMAF_MOVFLAGS and flag(out, "-fflags") == "+bitexact"
        assert flag(out, "-c:v") == "libx264" and flag(out, "-crf") == str(rung.crf)
        assert flag(out, "-maxrate") == f"{rung.maxrate}k" and flag(out, "-bufsize") == f"{rung.bufsize}k"
        assert flag(out, "-preset") == "fast" and flag(out, "-profile:v") == "high"
        assert flag(out, "-g") == flag(out, "-keyint_min") == str(plan.gop_frames) == "60"
        assert flag(out, "-sc_threshold") == "0" and flag(out, "-flags") == "+cgop"
        assert flag(out, "-x264-params") == "8x8dct=1"  # keeps High even with ultrafast


def test_every_codec_gets_closed_fixed_gops() -> None:
    options = EncodeOptions(codecs=("h264", "hevc", "av1"), x264_preset="veryfast")
    plan = plan_chunks(probe_30fps(), options)
    by_codec = {r.codec: codec_args(r, plan, options) for r in plan.rungs}
    hevc, av1 = by_codec["hevc"], by_codec["av1"]
    assert flag(hevc, "-c:v") == "libx265" and flag(hevc, "-tag:v") == "hvc1"
    assert "keyint=60:min-keyint=60:scenecut=0:open-gop=0" in flag(hevc, "-x265-params")
    assert flag(av1, "-c:v") == "libsvtav1" and flag(av1, "-preset") == "10" and flag(av1, "-g") == "60"
    assert flag(av1, "-svtav1-params") == "keyint=60:scd=0"
    assert all("-maxrate" in args for args in by_codec.values())


def test_encoder_flags_identical_across_chunks() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    parts = {tuple(chunk_argv("/in", c, plan, OPTIONS, "/o")[chunk_argv("/in", c, plan, OPTIONS, "/o").index("-map"):])
             for c in plan.chunks}
    # Only the frame counts may differ (the last chunk is shorter): everything else is the same.
    assert len({tuple(a for a in p if not a.isdigit()) for p in parts}) == 1


def test_first_chunk_has_no_seek_and_preroll_uses_trim() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    assert "-ss" not in chunk_argv("/in", plan.chunks[0], plan, OPTIONS, "/o")
    ts_plan = plan_chunks(probe_30fps(format_name="mpegts"), OPTIONS)
    chunk = ts_plan.chunks[3]
    argv = chunk_argv("/in.ts", chunk, ts_plan, OPTIONS, "/o")
    assert float(flag(argv, "-ss")) < 179.5 / 30 and "-copyts" in argv
    assert chunk.keep_from == pytest.approx(179.5 / 30)  # first_pts 0: the source's own time of the cut
    assert flag(argv, "-filter_complex").startswith(f"[0:0]trim=start={chunk.keep_from:.6f},setpts=PTS-STARTPTS,")


def test_audio_argv_aligns_to_the_timeline_start() -> None:
    leading = probe_30fps(start_time=1.0, first_pts=1.25, audio=True)
    assert leading.audio is not None and leading.audio.start == 0.0
    # Audio from the container's start (before the first frame): all of it is kept.
    assert audio_start_offset(replace(leading, audio=replace(leading.audio, start=1.0))) == 0.0
    probe = replace(leading, audio=replace(leading.audio, start=1.5))  # audio after the first frame
    argv = audio_argv("/in.ts", probe, OPTIONS, "/a.m4a")
    assert flag(argv, "-map") == "0:1"
    assert "-ss" not in argv  # audio is trimmed by filter, not by (imprecise) seeking
    assert flag(argv, "-af") == (
        "atrim=start=0.250000,asetpts=PTS-0.250000/TB,aresample=48000:async=1:min_hard_comp=0.02:first_pts=0"
    )
    assert flag(argv, "-ac") == "2" and flag(argv, "-c:a") == "aac" and flag(argv, "-b:a") == "128k"
    assert flag(argv, "-profile:a") == "aac_low"
    assert "-vn" in argv and flag(argv, "-protocol_whitelist") == "file"


def test_audio_is_cut_on_the_video_segment_boundaries() -> None:
    probe = probe_30fps(audio=True)
    plan = plan_chunks(probe, OPTIONS)
    argv = audio_segments_argv("/in.mp4", probe, plan, "/w")
    assert flag(argv, "-f") == "segment" and flag(argv, "-segment_format") == "mp4"
    cuts = [float(t) for t in flag(argv, "-segment_times").split(",")]
    assert len(cuts) == 4
    for cut, boundary in zip(cuts, plan.segment_times[1:]):
        # Half a frame before the first AAC frame at or after the boundary: the muxer cuts there.
        first = math.ceil(boundary * AUDIO_RATE / AAC_FRAME) * AAC_FRAME
        assert cut * AUDIO_RATE == pytest.approx(first - AAC_FRAME / 2, abs=0.05)
    assert "frag_duration=2000000000" in flag(argv, "-segment_format_options")
    assert flag(argv, "-segment_list") == "/w/segments.csv" and argv[-1] == "/w/%05d.mp4"


def test_audio_argv_without_offset_only_resamples() -> None:
    argv = audio_argv("/in.mp4", probe_30fps(audio=True), OPTIONS, "/a.m4a")
    assert flag(argv, "-af").startswith("aresample=48000")


def test_audio_argv_requires_audio() -> None:
    with pytest.raises(MediaError, match="no audio"):
        audio_argv("/in.mp4", probe_30fps(), OPTIONS, "/a.m4a")


def test_remux_copies_with_faststart_file_only_and_hides_the_priming() -> None:
    argv = remux_argv("/w/video.mp4", "/w/audio.mp4", "/w/out.mp4")
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-protocol_whitelist"] == ["file", "file"]
    assert flag(argv, "-itsoffset") == "-0.021333" and argv.index("-itsoffset") < argv.index("/w/audio.mp4")
    assert flag(argv, "-c") == "copy" and flag(argv, "-movflags") == "+faststart"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-map"] == ["0:v:0", "1:a:0"]
    no_audio = remux_argv("/w/video.mp4", None, "/w/out.mp4")
    assert "1:a:0" not in no_audio and no_audio.count("-i") == 1
    assert "-video_track_timescale" not in remux_argv("/w/v.mp4", None, "/w/o.mp4", 90_000)
    # Past 1 MHz ffmpeg's microsecond edit-list arithmetic loses ticks: the MP4 is rescaled.
    assert flag(remux_argv("/w/v.mp4", None, "/w/o.mp4", 23_040_000), "-video_track_timescale") == "90000"


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
    plan = plan_chunks(probe, EncodeOptions(**{**OPTIONS.to_dict(), "outputs": ["mp4"]}))
    argv = single_pass_argv("/in.mp4", probe, plan, OPTIONS, "/ref.mp4")
    chunk = chunk_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/w")
    audio = audio_argv("/in.mp4", probe, OPTIONS, "/a.m4a")
    # Same hardened input, the same x264 flags, the same audio chain.
    assert argv[: argv.index("-i") + 2] == chunk[: chunk.index("-i") + 2]
    x264 = chunk[chunk.index("-c:v") : chunk.index("-video_track_timescale")]
    assert argv[argv.index("-c:v") : argv.index("-c:v") + len(x264)] == x264
    assert "trim=" not in flag(argv, "-vf")
    assert flag(argv, "-fps_mode") == "passthrough" and "-frames:v" not in argv and "-ss" not in argv
    for name in ("-af", "-ac", "-c:a", "-profile:a", "-b:a"):
        assert flag(argv, name) == flag(audio, name)
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-map"] == ["0:0", "0:1"]
    assert flag(argv, "-movflags") == "+faststart" and argv[-3:] == ["-f", "mp4", "/ref.mp4"]
    silent = single_pass_argv("/in.mp4", probe_30fps(), plan, OPTIONS, "/ref.mp4")
    assert "-af" not in silent and "-c:a" not in silent


def test_a_leading_audio_holds_the_first_frame_of_the_first_chunk_only() -> None:
    base = probe_30fps(first_pts=0.5, audio=True)  # audio from 0: it leads by 0.5 s
    plan = plan_chunks(base, OPTIONS)
    assert plan.lead == 0.5
    first = flag(ladder_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/o"), "-filter_complex")
    later = flag(ladder_argv("/in.mp4", plan.chunks[1], plan, OPTIONS, "/o"), "-filter_complex")
    assert first.startswith("[0:0]setpts=PTS-STARTPTS+gt(N\\,0)*0.500000000/TB,split=")
    assert later.startswith("[0:0]setpts=PTS-STARTPTS,split=")
    # The encoder keeps the track's clock (ffmpeg would round frame times to 1/frame rate).
    argv = ladder_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/o")
    assert flag(argv, "-enc_time_base:v") == f"1/{plan.timescale}"


def test_threads_are_sized_for_the_decoder_the_filters_and_every_encoder_when_asked() -> None:
    plan = plan_chunks(probe_30fps(), OPTIONS)
    assert "-threads" not in ladder_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/o")  # ffmpeg's choice
    argv = ladder_argv("/in.mp4", plan.chunks[0], plan, OPTIONS, "/o", threads=1)
    decoder = argv.index("-threads")
    assert argv[decoder + 1] == "1" and decoder < argv.index("-i") and flag(argv, "-filter_complex_threads") == "1"
    outputs = [i for i, a in enumerate(argv) if a == "-threads"][1:]
    assert len(outputs) == len(plan.rungs) and all(argv[i + 1] == "1" for i in outputs)


def test_remux_adds_the_other_audio_tracks_and_the_subtitles_with_their_languages() -> None:
    argv = remux_argv("/v.mp4", "/a.mp4", "/out.mp4", languages=["eng"], alternates=[("/a2.mp4", "fra")],
                      subtitles=[("/t1.vtt", "deu"), ("/t2.vtt", "")])
    inputs = [argv[i + 1] for i, a in enumerate(argv) if a == "-i"]
    assert inputs == ["/v.mp4", "/a.mp4", "/a2.mp4", "/t1.vtt", "/t2.vtt"]
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    assert maps == ["0:v:0", "1:a:0", "2:a:0", "3:s:0", "4:s:0"]
    assert argv.count("-itsoffset") == 2  # every audio input hides its priming frame
    assert flag(argv, "-c:s") == "mov_text"
    assert flag(argv, "-metadata:s:a:1") == "language=fra" and flag(argv, "-metadata:s:s:1") == "language=und"
    assert flag(argv, "-disposition:a:0") == "default" and flag(argv, "-disposition:a:1") == "0"
    # Metadata is cleared before the tracks' own tags are set.
    assert argv.index("-map_metadata") < argv.index("-metadata:s:a:0")


def test_one_audio_pass_writes_every_audio_track_and_every_text_subtitle() -> None:
    from chalicelib.model.tracks import AudioTrack, SubtitleTrack

    probe = probe_30fps(audio=True)
    plan = replace(plan_chunks(probe, OPTIONS), audio_tracks=(AudioTrack("audio", 1, "eng", "English", True, 10.0),
                                                              AudioTrack("audio-2", 2, "fra", "FR", False, 9.0)),
                   subtitles=(SubtitleTrack("text-1", 3, "deu", "Deutsch", False, False, "subrip"),))
    argv = audio_segments_argv("/in.mkv", probe, plan, "/o")
    assert argv.count("-i") == 1  # the source is read once
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    assert maps == ["0:1", "0:2", "0:3"]
    lists = [argv[i + 1] for i, a in enumerate(argv) if a == "-segment_list"]
    assert lists == ["/o/segments.csv", "/o/audio-2/segments.csv"]  # the main track where it always was
    assert argv[-5:] == ["-c:s", "webvtt", "-f", "webvtt", "/o/text-1.vtt"]
