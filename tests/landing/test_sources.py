"""Source params are data: only files under the landing root (or an allow-listed root) are read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atlas import storage
from atlas.errors import AtlasSourceError
from atlas.sensors.landing import find_sources
from atlas.sources import check_source, shown


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "landing"
    (root / "customers" / "2026-11-21").mkdir(parents=True)
    (root / "customers" / "2026-11-21" / "a.csv").write_text("customer_id\nC000001\n")
    monkeypatch.setenv("ATLAS_LANDING_URL", f"file://{root}")
    return root


ROOT = "file:///data/landing"


@pytest.mark.parametrize("value", [
    "customers/2026-11-21/*.csv", "customers/**/*.csv", "file:///data/landing/customers/a.csv",
    "file://localhost/data/landing/a.csv", "x..y.csv",
])
def test_values_under_the_root_are_accepted(value):
    assert check_source(value, ROOT, (), "source_file") == value


@pytest.mark.parametrize(("value", "why"), [
    ("../../../../../../../../etc/passwd", "'..'"),
    ("customers/../../secrets/pii_key.json", "'..'"),
    ("customers/%2e%2e/%2e%2e/etc/passwd", "'..'"),
    ("/etc/passwd", "absolute path"),
    ("~/.ssh/id_rsa", "absolute path"),
    ("file:///etc/passwd", "outside the landing root"),
    ("file:///data/landing/../../etc/passwd", "'..'"),
    ("file:///data/landing-other/a.csv", "outside the landing root"),
    ("file://evil.example/data/landing/a.csv", "outside the landing root"),
    ("s3://other-bucket/landing/a.csv", "outside the landing root"),
    ("http://169.254.169.254/latest/meta-data", "not allowed"),
    ("gs://bucket/a.csv", "not allowed"),
    ("customers\\..\\..\\etc\\passwd", "backslashes"),
    ("customers/a.csv\x00.txt", "control characters"),
    (" customers/a.csv", "whitespace"),
])
def test_values_outside_the_root_are_refused_naming_the_param(value, why):
    with pytest.raises(AtlasSourceError) as info:
        check_source(value, ROOT, (), "source_file")
    message = str(info.value)
    assert message.startswith("param source_file ") and why in message


def test_allow_list_admits_an_extra_root_only():
    extra = ("s3://partner-drop/atlas",)
    assert check_source("s3://partner-drop/atlas/x.csv", ROOT, extra, "source_file")
    with pytest.raises(AtlasSourceError):
        check_source("s3://partner-drop/other/x.csv", ROOT, extra, "source_file")
    with pytest.raises(AtlasSourceError):
        check_source("s3://partner-drop/atlas-evil/x.csv", ROOT, extra, "source_file")


def test_long_values_are_cut_in_messages():
    assert len(shown("x" * 10_000)) <= 120


def test_a_symlink_out_of_the_root_is_refused_before_reading(landing, tmp_path):
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("customer_id\nC999999\n")
    (landing / "customers" / "2026-11-22").mkdir()
    os.symlink(secret, landing / "customers" / "2026-11-22" / "link.csv")
    os.symlink(secret.parent, landing / "customers" / "linked-dir")
    for value in ("customers/2026-11-22/*.csv", "customers/linked-dir/*.csv",
                  f"file://{landing}/customers/2026-11-22/link.csv"):
        with pytest.raises(AtlasSourceError, match="outside the landing root"):
            storage.resolve_source(value, param="source_file")


def test_jinja_in_source_file_is_used_literally(landing, tmp_path):
    """Nothing executed, nothing rendered: a file literally named like a template is found as itself."""
    marker = tmp_path / "executed"
    payload = ("{{cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read()}}"
               "customers/{{ds}}/*.csv")
    spec = _spec()
    with pytest.raises(AtlasSourceError, match="no file matches"):
        find_sources(spec, "customers/2026-11-21/*.csv", payload)
    assert not marker.exists()
    literal = landing / "odd" / "{{ 7 * 7 }}.csv"
    literal.parent.mkdir()
    literal.write_text("customer_id\nC000002\n")
    (found,) = find_sources(spec, "customers/2026-11-21/*.csv", "odd/{{ 7 * 7 }}.csv")
    assert found.name == "{{ 7 * 7 }}.csv"


def test_explicit_file_that_does_not_exist_fails_at_once(landing):
    with pytest.raises(AtlasSourceError, match="param source_file: no file matches"):
        find_sources(_spec(), "customers/2026-11-21/*.csv", "customers/2026-11-21/missing.csv")
    assert find_sources(_spec(), "customers/2026-12-01/*.csv", "") == []  # the schedule path waits


def _spec():
    from tests.dag_probe import probe_spec

    return probe_spec("customers")
