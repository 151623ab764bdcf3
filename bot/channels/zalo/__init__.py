"""Zalo: the Bot Platform (first target) and the Official Account API v3 (second). See README.md."""
