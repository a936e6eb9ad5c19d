"""services.rooms.media.parse_media_url: which player, which id, where to start, live or not."""

from __future__ import annotations

import pytest

from models.rooms import MediaKind
from services.core.errors import ValidationError
from services.rooms.media import MAX_URL_LENGTH, parse_media_url

VIDEO = "dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("url", "source_id", "start"),
    [
        (f"https://www.youtube.com/watch?v={VIDEO}", VIDEO, 0.0),
        (f"https://youtube.com/watch?v={VIDEO}&t=90", VIDEO, 90.0),
        (f"https://m.youtube.com/watch?v={VIDEO}&t=1m30s", VIDEO, 90.0),
        (f"https://music.youtube.com/watch?v={VIDEO}&list=RD", VIDEO, 0.0),
        (f"https://youtu.be/{VIDEO}", VIDEO, 0.0),
        (f"https://youtu.be/{VIDEO}?t=42", VIDEO, 42.0),
        (f"https://youtu.be/{VIDEO}?t=1h2m3s", VIDEO, 3723.0),
        (f"https://www.youtube.com/shorts/{VIDEO}", VIDEO, 0.0),
        (f"https://www.youtube.com/embed/{VIDEO}?start=15", VIDEO, 15.0),
        (f"https://www.youtube-nocookie.com/embed/{VIDEO}", VIDEO, 0.0),
        (f"https://www.youtube.com/live/{VIDEO}", VIDEO, 0.0),
        (f"  https://youtu.be/{VIDEO}?t=nonsense  ", VIDEO, 0.0),
    ],
)
def test_youtube(url: str, source_id: str, start: float) -> None:
    source = parse_media_url(url)
    assert source.kind == MediaKind.YOUTUBE
    assert source.source_id == source_id
    assert source.start == start
    assert source.is_live is False
    assert source.url == url.strip()
    assert source.title == f"YouTube · {source_id}"


@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/76979871",
        "https://vimeo.com/channels/staffpicks/76979871",
        "https://player.vimeo.com/video/76979871?h=abc",
    ],
)
def test_vimeo(url: str) -> None:
    source = parse_media_url(url)
    assert (source.kind, source.source_id, source.is_live) == (MediaKind.VIMEO, "76979871", False)


@pytest.mark.parametrize(
    ("url", "source_id", "is_live"),
    [
        ("https://www.twitch.tv/SomeStreamer", "somestreamer", True),
        ("https://twitch.tv/some_streamer/", "some_streamer", True),
        ("https://m.twitch.tv/somebody", "somebody", True),
        ("https://www.twitch.tv/videos/1234567890", "v1234567890", False),
        ("https://player.twitch.tv/?channel=somebody&parent=x.org", "somebody", True),
        ("https://player.twitch.tv/?video=v42&parent=x.org", "v42", False),
        ("https://player.twitch.tv/?video=42", "v42", False),
    ],
)
def test_twitch(url: str, source_id: str, is_live: bool) -> None:
    source = parse_media_url(url)
    assert (source.kind, source.source_id, source.is_live) == (MediaKind.TWITCH, source_id, is_live)


@pytest.mark.parametrize(
    ("url", "kind", "title"),
    [
        ("https://cdn.example.com/live/stream.m3u8", MediaKind.HLS, "stream.m3u8"),
        ("https://cdn.example.com/live/INDEX.M3U8?token=1", MediaKind.HLS, "INDEX.M3U8"),
        ("https://cdn.example.com/films/my%20film.mp4", MediaKind.HTML5, "my film.mp4"),
        ("http://example.com/a/clip.webm#t=3", MediaKind.HTML5, "clip.webm"),
        ("https://example.com/song.mp3", MediaKind.HTML5, "song.mp3"),
    ],
)
def test_direct_links(url: str, kind: MediaKind, title: str) -> None:
    source = parse_media_url(url)
    assert (source.kind, source.source_id, source.title) == (kind, None, title)
    assert source.url == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "not a link",
        "youtube.com/watch?v=" + VIDEO,  # no scheme
        "ftp://example.com/film.mp4",
        "javascript:alert(1)//film.mp4",
        "https:///film.mp4",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/channel/UC123",
        "https://youtu.be/",
        f"https://youtu.be/{VIDEO}extra",
        "https://vimeo.com/about",
        "https://www.twitch.tv/directory/game/Chess",
        "https://www.twitch.tv/ab",
        "https://player.twitch.tv/?parent=x.org",
        "https://example.com/page.html",
        "https://example.com/",
        "https://example.com/film.mp4" + "x" * MAX_URL_LENGTH,
    ],
)
def test_garbage_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_media_url(url)
    assert caught.value.data["field"] == "url"


def test_a_long_but_allowed_link() -> None:
    url = "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/.mp4")) + ".mp4"
    assert len(url) == MAX_URL_LENGTH
    assert parse_media_url(url).kind == MediaKind.HTML5
