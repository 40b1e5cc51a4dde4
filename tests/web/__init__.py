"""Tests of the web process: health, metrics and the push-notification receivers."""
