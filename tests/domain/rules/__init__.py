"""Tests for the pre-infusion rules, one module per clinical area."""
