"""Tests for heritage.settings: the typed ``heritage.*`` table and the session secret."""

from __future__ import annotations

import stat

import pytest

from heritage.settings import (
    TABLE,
    SettingsError,
    asbool,
    asbytesize,
    aslist,
    asurl,
    parse_settings,
    session_secret,
)

# -- defaults ---------------------------------------------------------------------------------


def test_parse_settings_defaults():
    hs = parse_settings({})
    assert hs.var_dir == "var"
    assert hs.secret == ""
    assert hs.public_url == ""
    assert hs.max_body_bytes == 1024**2
    assert hs.max_upload_bytes == 2 * 1024**3
    assert hs.max_image_pixels == 400_000_000
    assert hs.languages == ("en", "ms", "id")
    assert hs.secure_cookies is False
    assert hs.session_max_age == 8 * 3600
    assert hs.page_size == 20
    assert hs.zeo_storage == ""
    assert hs.zeo_address == ""
    assert hs.sample_data is False


def test_every_table_row_has_a_default():
    hs = parse_settings({})
    assert set(hs.values) == {s.name for s in TABLE}


def test_unknown_attribute_is_attribute_error():
    hs = parse_settings({})
    with pytest.raises(AttributeError):
        hs.no_such_setting  # noqa: B018


# -- parsing ----------------------------------------------------------------------------------


def test_values_are_converted():
    hs = parse_settings(
        {
            "heritage.var_dir": "/srv/heritage/var",
            "heritage.public_url": "https://heritage.example.org/",
            "heritage.max_body_bytes": "64KB",
            "heritage.max_upload_bytes": "10MB",
            "heritage.max_image_pixels": "1000",
            "heritage.languages": "ms en\n  id",
            "heritage.secure_cookies": "true",
            "heritage.session_max_age": "60",
            "heritage.page_size": "50",
            "heritage.sample_data": "yes",
        }
    )
    assert hs.var_dir == "/srv/heritage/var"
    assert hs.public_url == "https://heritage.example.org"
    assert hs.max_body_bytes == 64 * 1024
    assert hs.max_upload_bytes == 10 * 1024**2
    assert hs.max_image_pixels == 1000
    assert hs.languages == ("ms", "en", "id")
    assert hs.secure_cookies is True
    assert hs.session_max_age == 60
    assert hs.page_size == 50
    assert hs.sample_data is True


def test_non_heritage_keys_are_ignored():
    hs = parse_settings({"zodbconn.uri": "memory://", "pyramid.reload_templates": "maybe"})
    assert hs == parse_settings({})


def test_unknown_heritage_key_is_refused_by_name():
    with pytest.raises(SettingsError) as info:
        parse_settings({"heritage.page_sise": "20"})
    assert "heritage.page_sise" in str(info.value)
    # and it tells what would have been right
    assert "heritage.page_size" in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("heritage.secure_cookies", "maybe"),
        ("heritage.sample_data", "2"),
        ("heritage.page_size", "twenty"),
        ("heritage.max_image_pixels", "1e9x"),
        ("heritage.max_body_bytes", "lots"),
        ("heritage.max_upload_bytes", "MB"),
        ("heritage.public_url", "ftp://example.org"),
        ("heritage.public_url", "heritage.example.org"),
    ],
)
def test_bad_values_are_refused_naming_the_key(key, value):
    with pytest.raises(SettingsError) as info:
        parse_settings({key: value})
    assert key in str(info.value)


# -- converters -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1", "true", "TRUE", " yes ", "on", True])
def test_asbool_true(text):
    assert asbool(text) is True


@pytest.mark.parametrize("text", ["0", "false", "No", "off", "", False])
def test_asbool_false(text):
    assert asbool(text) is False


def test_asbool_refuses_other_words():
    with pytest.raises(ValueError):
        asbool("perhaps")


def test_aslist():
    assert aslist("en ms\nid") == ("en", "ms", "id")
    assert aslist(["en", "ms"]) == ("en", "ms")
    assert aslist(("en",)) == ("en",)
    assert aslist("") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10 * 1024**2),
        ("10 mb", 10 * 1024**2),
        ("512KB", 512 * 1024),
        ("1GB", 1024**3),
        ("1.5MB", int(1.5 * 1024**2)),
        ("100B", 100),
        ("4096", 4096),
        (2048, 2048),
    ],
)
def test_asbytesize(text, expected):
    assert asbytesize(text) == expected


@pytest.mark.parametrize("text", ["", "MB", "ten MB", "10TB"])
def test_asbytesize_refuses(text):
    with pytest.raises(ValueError):
        asbytesize(text)


def test_asurl():
    assert asurl("http://example.org/") == "http://example.org"
    assert asurl(" https://example.org/heritage// ") == "https://example.org/heritage"
    assert asurl("") == ""
    with pytest.raises(ValueError):
        asurl("example.org")
    with pytest.raises(ValueError):
        asurl("file:///etc/passwd")


# -- the session secret -----------------------------------------------------------------------


def test_session_secret_is_created_once_with_mode_0600(tmp_path):
    var = tmp_path / "var"
    hs = parse_settings({"heritage.var_dir": str(var)})

    secret = session_secret(hs)

    path = var / "session.secret"
    assert path.read_text() == secret
    assert len(secret) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in var.iterdir()) == ["session.secret"]  # no temp file left
    # the next process gets the same secret, and the file is not rewritten
    mtime = path.stat().st_mtime_ns
    assert session_secret(parse_settings({"heritage.var_dir": str(var)})) == secret
    assert path.stat().st_mtime_ns == mtime


def test_session_secret_reads_an_existing_file(tmp_path):
    (tmp_path / "session.secret").write_text("kept-from-last-time\n")
    hs = parse_settings({"heritage.var_dir": str(tmp_path)})
    assert session_secret(hs) == "kept-from-last-time"


def test_session_secrets_differ_between_sites(tmp_path):
    one = session_secret(parse_settings({"heritage.var_dir": str(tmp_path / "a")}))
    two = session_secret(parse_settings({"heritage.var_dir": str(tmp_path / "b")}))
    assert one != two


def test_explicit_secret_wins_and_writes_no_file(tmp_path):
    (tmp_path / "session.secret").write_text("from-the-file")
    hs = parse_settings({"heritage.var_dir": str(tmp_path), "heritage.secret": "from-the-ini"})
    assert session_secret(hs) == "from-the-ini"

    empty = tmp_path / "empty"
    hs = parse_settings({"heritage.var_dir": str(empty), "heritage.secret": "s3cret"})
    assert session_secret(hs) == "s3cret"
    assert not empty.exists()
