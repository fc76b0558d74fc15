"""What every browser test does: sign in, wait for htmx to settle, collect console errors."""

from playwright.sync_api import Page, expect

PASSWORD = "pass-for-tests-1"  # the password tests/conftest.py's make_user gives every user


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who-name")).to_be_visible()


def settled(page: Page) -> None:
    """Wait until htmx has finished swapping and settling: a person cannot press a key within the
    settle delay, but a test can, and would then act on a half-processed fragment."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page from now on (a CSP refusal is one)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
