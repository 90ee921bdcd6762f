"""The DASH manifest (CMAF profile, SegmentTemplate + SegmentTimeline) of a complete stream index."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from chalicelib.model.playback import SUBTITLES
from workers.media.stream import INIT, Index, Rendition

NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILES = "urn:mpeg:dash:profile:cmaf:2019,urn:mpeg:dash:profile:isoff-live:2011"
CHANNELS_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
# ISO/IEC 23091-2 code points of a kept HDR set (DASH-IF IOP: essential, so a player that cannot
# render PQ/HLG skips the set and plays the SDR H.264 one).
CICP_SCHEMES = ("urn:mpeg:mpegB:cicp:ColourPrimaries", "urn:mpeg:mpegB:cicp:TransferCharacteristics",
                "urn:mpeg:mpegB:cicp:MatrixCoefficients")


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _template(parent: ET.Element, rendition: Rendition) -> None:
    """One timeline for the whole adaptation set: every rendition in it shares the boundaries."""
    template = ET.SubElement(parent, "SegmentTemplate", timescale=str(rendition.timescale),
                             presentationTimeOffset=str(rendition.offset), startNumber="0",
                             initialization=f"$RepresentationID$/{INIT}", media="$RepresentationID$/$Number$.m4s")
    timeline = ET.SubElement(template, "SegmentTimeline")
    at = rendition.start
    for position, (duration, run) in enumerate(groupby(rendition.durations)):
        repeat = sum(1 for _ in run) - 1
        attributes = {"t": str(at)} if position == 0 else {}
        attributes["d"] = str(duration)
        if repeat:
            attributes["r"] = str(repeat)
        ET.SubElement(timeline, "S", attributes)
        at += duration * (repeat + 1)


def manifest(index: Index) -> str:
    """A static MPD: one video adaptation set per codec, one audio set; minBufferTime one segment."""
    video = index.video
    length = video[0].total_seconds if video else 0.0
    mpd = ET.Element("MPD", xmlns=NAMESPACE, profiles=PROFILES, type="static",
                     mediaPresentationDuration=_duration(length), minBufferTime=_duration(index.target_duration))
    period = ET.SubElement(mpd, "Period", id="0", start="PT0S")
    codecs = sorted({r.codec for r in video}, key=lambda c: (c != "h264", c))
    for set_id, codec in enumerate(codecs):
        members = [r for r in video if r.codec == codec]
        top = members[0]
        adaptation = ET.SubElement(period, "AdaptationSet", id=str(set_id), contentType="video",
                                   mimeType="video/mp4", segmentAlignment="true", startWithSAP="1",
                                   maxWidth=str(max(r.width for r in members)),
                                   maxHeight=str(max(r.height for r in members)),
                                   frameRate=str(top.frame_rate), par=_par(top))
        if top.cicp is not None:  # every rung of a codec has the same range
            for scheme, value in zip(CICP_SCHEMES, top.cicp):
                ET.SubElement(adaptation, "EssentialProperty", schemeIdUri=scheme, value=str(value))
        _template(adaptation, top)
        for r in members:
            ET.SubElement(adaptation, "Representation", id=r.id, bandwidth=str(r.peak_bitrate), codecs=r.codecs,
                          width=str(r.width), height=str(r.height), sar="1:1")
    set_id = len(codecs)
    for audio in index.audios:  # one set per track: a player picks one by language and role
        adaptation = ET.SubElement(period, "AdaptationSet", id=str(set_id), contentType="audio",
                                   mimeType="audio/mp4", segmentAlignment="true", startWithSAP="1",
                                   lang=audio.language or "und")
        role = "main" if audio is index.audio else "alternate"
        ET.SubElement(adaptation, "Role", schemeIdUri=ROLE_SCHEME, value=role)
        if audio.name:
            ET.SubElement(adaptation, "Label").text = audio.name
        _template(adaptation, audio)
        representation = ET.SubElement(adaptation, "Representation", id=audio.id, bandwidth=str(audio.peak_bitrate),
                                       codecs=audio.codecs, audioSamplingRate=str(audio.timescale))
        ET.SubElement(representation, "AudioChannelConfiguration", schemeIdUri=CHANNELS_SCHEME, value="2")
        set_id += 1
    for subtitle in index.subtitles:  # a side-loaded WebVTT file each
        adaptation = ET.SubElement(period, "AdaptationSet", id=str(set_id), contentType="text",
                                   mimeType="text/vtt", lang=subtitle.language or "und")
        ET.SubElement(adaptation, "Role", schemeIdUri=ROLE_SCHEME,
                      value="forced-subtitle" if subtitle.forced else "subtitle")
        ET.SubElement(adaptation, "Label").text = subtitle.name
        representation = ET.SubElement(adaptation, "Representation", id=subtitle.id, bandwidth="256")
        ET.SubElement(representation, "BaseURL").text = f"{subtitle.id}/{SUBTITLES}"
        set_id += 1
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _par(rendition: Rendition) -> str:
    from math import gcd

    divisor = gcd(rendition.width, rendition.height) or 1
    return f"{rendition.width // divisor}:{rendition.height // divisor}"
