"""Turn a pasted link into a playable media description: which player, which id, live or not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from models.rooms import MediaKind
from services.core import text
from services.core.errors import N_, ValidationError

MAX_URL_LENGTH = 2048
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
#: A title taken from a file name: one line, visible, the column's length.
_FILE_TITLE = text.Rule(visible=True, max_length=200)
_DIRECT_EXT = (".mp4", ".webm", ".ogv", ".ogg", ".mov", ".m4v", ".mp3", ".m4a")


@dataclass(frozen=True)
class MediaSource:
    url: str
    kind: MediaKind
    source_id: str | None
    title: str
    is_live: bool = False
    start: float = 0.0


def _bad() -> ValidationError:
    return ValidationError(
        N_("This link cannot be played. Paste a YouTube, Vimeo, Twitch or direct video link."),
        field="url",
        reason="unsupported link",
    )


def _seconds(value: str | None) -> float:
    """YouTube's ``t=`` accepts 90, 90s or 1m30s."""
    if not value:
        return 0.0
    if re.fullmatch(r"[0-9]{1,9}", value):  # ASCII: "²".isdigit() is true, float("²") fails
        return float(value)
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value)
    if not match or not any(match.groups()):
        return 0.0
    h, m, s = (int(g or 0) for g in match.groups())
    return float(h * 3600 + m * 60 + s)


def parse_media_url(raw: str) -> MediaSource:
    url = text.check(raw, text.URL, field="url").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise _bad()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad()
    host = parts.hostname.lower().removeprefix("www.").removeprefix("m.")
    path = unquote(parts.path)
    query = parse_qs(parts.query)

    if host in ("youtube.com", "music.youtube.com", "youtube-nocookie.com", "youtu.be"):
        video_id = None
        if host == "youtu.be":
            video_id = path.strip("/").split("/")[0]
        elif path == "/watch":
            video_id = (query.get("v") or [None])[0]
        else:
            match = re.match(r"^/(?:embed|shorts|live|v)/([^/?#]+)", path)
            video_id = match.group(1) if match else None
        if not video_id or not _YT_ID.match(video_id):
            raise _bad()
        start = _seconds((query.get("t") or query.get("start") or [None])[0])
        return MediaSource(url, MediaKind.YOUTUBE, video_id, f"YouTube · {video_id}", start=start)

    if host in ("vimeo.com", "player.vimeo.com"):
        match = re.search(r"/(\d{5,12})(?:/|$)", path)
        if not match:
            raise _bad()
        return MediaSource(url, MediaKind.VIMEO, match.group(1), f"Vimeo · {match.group(1)}")

    if host in ("twitch.tv", "player.twitch.tv"):
        segments = [s for s in path.split("/") if s]
        if host == "player.twitch.tv":
            channel = (query.get("channel") or [None])[0]
            video = (query.get("video") or [None])[0]
            if video and re.fullmatch(r"v?[0-9]{1,20}", video):
                return MediaSource(url, MediaKind.TWITCH, f"v{video.lstrip('v')}", "Twitch video")
            if channel and re.fullmatch(r"[A-Za-z0-9_]{3,25}", channel):
                return MediaSource(url, MediaKind.TWITCH, channel, f"Twitch · {channel}", True)
            raise _bad()
        if (
            len(segments) >= 2
            and segments[0] == "videos"
            and re.fullmatch(r"[0-9]{1,20}", segments[1])
        ):
            return MediaSource(url, MediaKind.TWITCH, f"v{segments[1]}", "Twitch video")
        if len(segments) == 1 and re.fullmatch(r"[A-Za-z0-9_]{3,25}", segments[0]):
            channel = segments[0].lower()
            return MediaSource(url, MediaKind.TWITCH, channel, f"Twitch · {channel}", True)
        raise _bad()

    # The path is percent-decoded: %00 or %E2%80%AE must not reach the title.
    name = text.clean(path.rsplit("/", 1)[-1], _FILE_TITLE).strip() or host
    if path.lower().endswith(".m3u8"):
        return MediaSource(url, MediaKind.HLS, None, name[:200])
    if path.lower().endswith(_DIRECT_EXT):
        return MediaSource(url, MediaKind.HTML5, None, name[:200])
    raise _bad()
