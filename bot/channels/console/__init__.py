"""The console channel: a terminal chat (channel.py)."""
