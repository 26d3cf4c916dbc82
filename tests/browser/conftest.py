"""Browser tests: real headless Chromium (Debian's `chromium` package) driven by Playwright.

The fixtures (`chromium`, `page`, `screenshot`) live in the root conftest.py so that every app's
browser tests share them. Browsers are never downloaded; without Debian's chromium these tests
are skipped with the reason, unless CROWDHR_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""
