"""The Telegram channel: update translation (updates.py), sending (sender.py), the PTB application (channel.py)."""
