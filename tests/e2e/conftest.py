"""Browser tests run on a 2-core machine beside the server they test: give assertions time."""

from playwright.sync_api import expect

# Playwright's default of 5 s is tight when the live server, Chromium and the database share two cores.
expect.set_options(timeout=15_000)
