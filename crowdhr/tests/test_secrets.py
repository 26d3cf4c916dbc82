from __future__ import annotations

import pytest

from crowdhr.secrets import WriteOnlySecretField, decrypt, encrypt


def test_encrypted_value_round_trips_and_hides_the_plain_text():
    stored = encrypt("my-aws-secret")
    assert "my-aws-secret" not in stored
    assert decrypt(stored) == "my-aws-secret"


def test_tampered_value_is_refused():
    stored = encrypt("x")
    with pytest.raises(ValueError):
        decrypt(stored[:-4] + "AAAA")


def test_write_only_field_never_renders_the_secret():
    field = WriteOnlySecretField()
    assert field.prepare_value("my-aws-secret") == ""
    assert "my-aws-secret" not in field.widget.render("secret", "my-aws-secret")
