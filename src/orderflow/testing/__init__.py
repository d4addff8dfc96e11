"""Test helpers for integrators: Hypothesis strategies, fakes and adapter contract tests."""
