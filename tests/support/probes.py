"""Synthetic probe results for the planner's and the argv builders' tests."""
from __future__ import annotations

from chalicelib.model.facts import AudioInfo, ProbeResult, VideoInfo


def make_probe(
    frame_times: tuple[float, ...],
    *,
    last_frame: float = 1 / 30,
    format_name: str = "mov,mp4,m4a,3gp,3g2,mj2",
    start_time: float = 0.0,
    first_pts: float = 0.0,
    size: tuple[int, int] = (1920, 1080),
    audio: bool = False,
) -> ProbeResult:
    duration = frame_times[-1] + last_frame
    video = VideoInfo(
        index=0, codec="h264", width=size[0], height=size[1], rotation=0,
        display_width=size[0], display_height=size[1], pix_fmt="yuv420p", bit_depth=8,
        avg_fps=len(frame_times) / duration, frame_count=len(frame_times), duration=duration,
        first_pts=first_pts, frame_times=frame_times, keyframe_interval=2.0, time_base_den=30000,
    )
    audio_info = AudioInfo(index=1, codec="aac", channels=2, sample_rate=48000, start=0.0, duration=duration)
    return ProbeResult(format_name, 1000, duration, start_time, video, audio_info if audio else None)

