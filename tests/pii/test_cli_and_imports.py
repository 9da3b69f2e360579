"""The decrypt path for authorized users, and a light ``import atlas.pii``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from atlas.pii.crypto import encrypt_value
from atlas.pii.keys import ENV_VAR, connection_json, generate_keys

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env_keys, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    if env_keys is None:
        env.pop(ENV_VAR, None)
    else:
        env[ENV_VAR] = connection_json(env_keys)
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_decrypt_cli_round_trip_from_arguments_and_stdin():
    keys = generate_keys()
    secrets = ["010190-1234", "Nørregade 12, 2100 København Ø"]
    tokens = [encrypt_value(s, keys) for s in secrets]
    by_args = _run(["-m", "atlas.pii.decrypt", tokens[0], "-"], keys, stdin=tokens[1] + "\n")
    assert by_args.returncode == 0 and by_args.stdout.splitlines() == secrets


def test_decrypt_cli_refuses_without_the_right_key():
    keys = generate_keys()
    token = encrypt_value("010190-1234", keys)
    wrong = _run(["-m", "atlas.pii.decrypt", token], generate_keys())
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert "cannot be decrypted" in wrong.stderr
    assert token not in wrong.stderr and "010190-1234" not in wrong.stderr


def test_decrypt_in_process_for_scripts():
    from atlas.pii.decrypt import decrypt_tokens

    keys = generate_keys()
    assert decrypt_tokens([encrypt_value("x-1", keys), "not-a-token"], keys) == ["x-1", None]


def test_importing_atlas_pii_loads_no_heavy_library():
    """Nor does the config, which derives the recognizer names from the recognizer catalog."""
    code = ("import sys, atlas.pii, atlas.pii.recognizers, atlas.config; "
            "heavy = [m for m in ('presidio_analyzer', 'spacy', 'pandas', 'thinc', 'airflow') "
            "if m in sys.modules]; print(','.join(heavy) or 'none')")
    result = _run(["-c", code], None)
    assert result.returncode == 0 and result.stdout.strip() == "none"
