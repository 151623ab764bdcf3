"""The Telegram channel: sender, update translation, the PTB application."""
