"""Create (or reuse) the separate virtual environment that runs oTree for tests and the demo."""

from __future__ import annotations

if __name__ == "__main__":
    pass
