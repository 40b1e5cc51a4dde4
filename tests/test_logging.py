import pytest
import structlog

from kaufland_sync.logging import REDACTED, configure, get_logger, redact


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


def test_log_lines_go_to_stderr_filtered_by_level_and_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """stdout belongs to a command's output (JSON, CSV); logs never land there."""
    try:
        configure("WARNING")
        log = get_logger("tests.logging")
        log.info("quiet.below_level")
        log.warning("shown", secret_key="s3cr3t", sku="A-1")
        out, err = capsys.readouterr()
        assert out == ""
        assert "shown" in err and "A-1" in err and REDACTED in err
        assert "s3cr3t" not in err and "quiet.below_level" not in err
    finally:
        structlog.reset_defaults()
