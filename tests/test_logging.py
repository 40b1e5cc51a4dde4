from kaufland_sync.logging import REDACTED, redact


def test_redact_masks_secret_keys_at_any_depth() -> None:
    event = {
        "client_key": "ck-123",
        "secret_key": "s3cr3t",
        "headers": {"Shop-Signature": "abc", "Accept": "application/json"},
        "items": [{"password": "p"}, {"name": "ok"}],
    }
    out = redact(event)
    assert out["client_key"] == "ck-123"
    assert out["secret_key"] == REDACTED
    assert out["headers"] == {"Shop-Signature": REDACTED, "Accept": "application/json"}
    assert out["items"] == [{"password": REDACTED}, {"name": "ok"}]
