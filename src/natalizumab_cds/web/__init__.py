"""The server-rendered web UI; ``static/`` holds assets served locally (no CDN)."""
