"""Loudness normalisation: the passes' argv and filters, reading the meters, when the dry run runs
(no binary)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.probes import make_probe
from workers.media.encode import audio_filter, audio_segments_argv, audio_start_offset
from workers.media.loudness import (
    LIMITER_PEAK,
    LINEAR_PEAK,
    Measurement,
    apply_filter,
    measure,
    measure_argv,
    meter_filter,
    offset_filter,
    parse_meters,
    parse_offset,
)

RESAMPLE = "aresample=48000:async=1:min_hard_comp=0.02:first_pts=0"
PROBE = make_probe(tuple(i / 30 for i in range(300)), start_time=1.0, first_pts=1.25, audio=True)
# The tail of a real pass-1 stderr (ffmpeg 9, -loglevel info): ebur128's and astats' summaries.
# The input's tags are printed first: a lookalike there must not count.
METERS = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/w/in.mp4':
  Metadata:
    comment         : Summary: Integrated loudness: I: -5.0 LUFS Threshold: -15.0 LUFS Loudness range: LRA: 1.0 LU \
True peak: Peak: 0.0 dBFS Number of samples: 7
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 191 kb/s (default)
[Parsed_ebur128_3 @ 0x7fcec4014bc0] Summary:

  Integrated loudness:
    I:         -34.0 LUFS
    Threshold: -44.0 LUFS

  Loudness range:
    LRA:         2.1 LU
    Threshold: -53.8 LUFS
    LRA low:   -35.1 LUFS
    LRA high:  -33.0 LUFS

  True peak:
    Peak:       -3.6 dBFS
[Parsed_astats_2 @ 0x7fcec4014780] Overall
[Parsed_astats_2 @ 0x7fcec4014780] Number of samples: 240000
[out#0/null @ 0x5626d43c9580] video:0KiB audio:938KiB subtitle:0KiB other streams:0KiB global headers:0KiB
size=N/A time=00:00:05.00 bitrate=N/A speed=2.15x elapsed=0:00:02.32
"""
# The dry run's: loudnorm's JSON report.
REPORT = """[Parsed_loudnorm_1 @ 0x7fcec40150c0] \n{
\t"input_i" : "-34.49",
\t"input_tp" : "-3.60",
\t"input_lra" : "3.00",
\t"input_thresh" : "-44.49",
\t"output_i" : "-20.90",
\t"output_tp" : "-3.00",
\t"output_lra" : "4.10",
\t"output_thresh" : "-30.90",
\t"normalization_type" : "dynamic",
\t"target_offset" : "4.90"
}
[out#0/null @ 0x5626d43c9580] video:0KiB audio:938KiB subtitle:0KiB other streams:0KiB global headers:0KiB
"""
QUIET = Measurement(integrated=-34.0, true_peak=-3.6, lra=2.1, threshold=-44.0, samples=240000)
LOUD = Measurement(integrated=-6.8, true_peak=0.6, lra=0.1, threshold=-16.8, samples=240000)


@pytest.fixture(autouse=True)
def fake_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFMPEG_BINARY", "/opt/ffmpeg")


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def options_of(filters: str, name: str) -> dict[str, str]:
    """The ``key=value`` options of filter ``name`` in a filter chain."""
    body = next(f for f in filters.split(",") if f.startswith(f"{name}="))[len(name) + 1:]
    return dict(item.split("=", 1) for item in body.split(":"))


def test_parse_meters_reads_ebur128_and_the_count() -> None:
    assert parse_meters(METERS) == QUIET


def test_parse_meters_reads_silence() -> None:
    silent = parse_meters(METERS.replace("I:         -34.0", "I:         -70.0")
                          .replace("Peak:       -3.6", "Peak:       -inf"))
    assert silent.integrated == -70.0 and silent.true_peak == float("-inf")
    assert not silent.audible and QUIET.audible
    assert apply_filter(-16, silent) == ""  # no gain makes silence -16 LUFS


@pytest.mark.parametrize("missing", ["[Parsed_ebur128_3 @ 0x7fcec4014bc0] Summary:", "Number of samples: 240000"])
def test_parse_meters_refuses_an_incomplete_report(missing: str) -> None:
    text = METERS.split("Stream #0:0")[1]  # without the lookalike tags
    assert parse_meters(text) == QUIET
    with pytest.raises(MediaError, match="measuring loudness failed"):
        parse_meters(text.replace(missing, "something else"))


def test_parse_offset_reads_loudnorms_report() -> None:
    assert parse_offset(REPORT) == 4.9
    assert parse_offset(REPORT.replace('"4.90"', '"inf"')) == float("inf")  # silence
    with pytest.raises(MediaError, match="printed no report"):
        parse_offset(METERS)
    with pytest.raises(MediaError, match="unreadable loudnorm report"):
        parse_offset(REPORT.replace('"4.90"', '"n/a"'))


def test_measure_argv_runs_the_encodes_own_chain_with_the_meters() -> None:
    plan = plan_chunks(PROBE, EncodeOptions())
    argv = measure_argv("/in.ts", PROBE, meter_filter())
    encode = audio_segments_argv("/in.ts", PROBE, plan, "/w", loudness=apply_filter(-16, QUIET))
    assert argv[0] == "/opt/ffmpeg" and argv[-3:] == ["-f", "null", "-"]
    # The same hardened input, the same stream, the same alignment as the encode.
    for name in ("-protocol_whitelist", "-format_whitelist", "-i", "-map"):
        assert flag(argv, name) == flag(encode, name)
    assert flag(argv, "-map") == "0:1" and "-vn" in argv
    # The meters print at the info level, after the quiet default; no progress lines.
    assert argv.index("info") > argv.index("error") and flag(argv, "-loglevel") == "error" and "-nostats" in argv
    chain = flag(argv, "-af")
    assert chain == audio_filter(audio_start_offset(PROBE), loudness=meter_filter())
    assert chain.endswith(f"{RESAMPLE},aformat=channel_layouts=stereo,astats=measure_perchannel=none:"
                          f"measure_overall=Number_of_samples,ebur128=peak=true:framelog=quiet,{RESAMPLE}")
    assert flag(encode, "-af").startswith(chain.split("aformat")[0])  # the same alignment and resampling first


def test_measure_argv_requires_audio() -> None:
    with pytest.raises(MediaError, match="no audio"):
        measure_argv("/in.mp4", make_probe((0.0, 1 / 30)), meter_filter())


def test_linear_gain_when_the_peak_allows_it() -> None:
    # -6.8 LUFS to -16: 9.2 dB down, the +0.6 dBTP peak lands at -8.6.
    assert LOUD.linear(-16) and LOUD.linear(-10)
    values = options_of(apply_filter(-16, LOUD), "loudnorm")
    assert values == {"I": "-16.00", "TP": f"{LINEAR_PEAK:.2f}", "LRA": "20.00", "measured_I": "-6.80",
                      "measured_TP": "0.60", "measured_LRA": "0.10", "measured_thresh": "-16.80", "offset": "0.00",
                      "linear": "true", "print_format": "none"}


def test_the_limiter_and_its_lower_ceiling_when_the_peak_does_not() -> None:
    # -34 LUFS to -16: 18 dB up would put the -3.6 dBTP peak at +14.4.
    assert not QUIET.linear(-16)
    assert QUIET.linear(-34 + LINEAR_PEAK + 3.6 - 0.02) and not QUIET.linear(-34 + LINEAR_PEAK + 3.6)
    values = options_of(apply_filter(-16, replace(QUIET, offset=4.9)), "loudnorm")
    assert values["TP"] == f"{LIMITER_PEAK:.2f}" and values["offset"] == "4.90" and values["linear"] == "true"
    assert LIMITER_PEAK < LINEAR_PEAK <= -2.0  # at least 1 dB for the AAC encoder's overshoot
    wide = Measurement(integrated=-30.0, true_peak=-20.0, lra=25.0, threshold=-40.0, samples=480000)
    assert not wide.linear(-23)  # a range above the target's: loudnorm compresses it


def test_a_short_track_gets_one_gain_up_to_the_linear_ceiling() -> None:
    short = replace(QUIET, samples=3 * 48000 - 1)
    assert short.short and not QUIET.short and not short.linear(-16)
    assert options_of(apply_filter(-16, short), "loudnorm")["TP"] == f"{LINEAR_PEAK:.2f}"


def test_the_dry_run_is_pass_2_without_its_offset() -> None:
    dry = offset_filter(-16, replace(QUIET, offset=4.9))
    assert dry == apply_filter(-16, QUIET).split(":print_format=none")[0] + ":print_format=json"


def test_apply_filter_restores_the_timeline_and_the_length() -> None:
    chain = apply_filter(-23, QUIET).split(",")
    assert chain[0] == "aformat=channel_layouts=stereo" and chain[1].startswith("loudnorm=")
    assert chain[2:] == ["asetpts=N/SR/TB", "aresample=48000", "atrim=end_sample=240000"]


def test_apply_filter_keeps_the_options_in_loudnorms_ranges() -> None:
    steady = Measurement(integrated=1.5, true_peak=float("-inf"), lra=0.0, threshold=-120.0, samples=96000,
                         offset=float("inf"))
    values = options_of(apply_filter(-16, steady), "loudnorm")
    assert values["measured_I"] == "0.00" and values["measured_TP"] == "-99.00"
    assert values["measured_thresh"] == "-99.00" and values["offset"] == "99.00"
    assert values["measured_LRA"] == "0.01"  # 0 is loudnorm's "not measured": it would refuse a linear gain
    assert not steady.linear(-16)  # above 0 LUFS loudnorm refuses one too


@pytest.mark.parametrize(
    ("meters", "target", "runs"),
    [
        (METERS, -16.0, 2),  # dynamic: the dry run finds the offset
        (METERS, -36.0, 1),  # 2 dB down: linear
        (METERS.replace("I:         -34.0", "I:         -70.0"), -16.0, 1),  # silence: left alone
        (METERS.replace("samples: 240000", "samples: 96000"), -16.0, 1),  # 2 s: one gain, no dry run
    ],
)
def test_measure_runs_loudnorm_dry_only_when_pass_2_is_dynamic(monkeypatch: pytest.MonkeyPatch, meters: str,
                                                                target: float, runs: int) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], timeout: float, **kwargs: object) -> sandbox.RunResult:
        calls.append(argv)
        assert kwargs["workdir"] == "/w" and kwargs["network"] is False and kwargs["what"] == "measuring loudness"
        return sandbox.RunResult(0, b"", meters if len(calls) == 1 else REPORT)

    monkeypatch.setattr(sandbox, "run", run)
    measured = measure("/in.mp4", PROBE, target, timeout=60, workdir="/w")
    assert len(calls) == runs
    assert measured.offset == (4.9 if runs == 2 else 0.0)
    if runs == 2:
        assert flag(calls[1], "-af") == audio_filter(audio_start_offset(PROBE),
                                                     loudness=offset_filter(target, measured))


def test_audio_filter_is_unchanged_without_loudness() -> None:
    assert audio_filter(0.0) == RESAMPLE
    assert audio_filter(0.25) == f"atrim=start=0.250000,asetpts=PTS-0.250000/TB,{RESAMPLE}"
    assert audio_filter(0.0, loudness="X") == f"{RESAMPLE},X,{RESAMPLE}"
