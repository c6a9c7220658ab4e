"""A new server's very first page view shows the lesson navigation, never Streamlit's list of pages/ files.

Streamlit starts in its old "pages/ folder" mode when a pages/ folder sits beside app.py, and sends that mode's
navigation (the file names: "app, activations, adversarial, ...") before app.py's own has run. The app draws its
navigation itself and switches Streamlit's list off (client.showSidebarNavigation = false). The flag that causes
it is per process, so this test starts its own server and is its first visitor.
"""

import time

from tests.e2e.conftest import _free_port, assert_no_streamlit_error, start_server, wait_healthy
from ui.i18n import strings

SIDEBAR_JS = """() => {
  const s = document.querySelector('[data-testid="stSidebar"]');
  return s ? s.innerText : '';
}"""


def test_the_first_page_view_of_a_new_server_never_shows_the_file_list(browser):
    port = _free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page = context.new_page()
        page.goto(f"{base}/gan?lang=en")   # a lesson link is the server's first request
        seen, deadline = [], time.time() + 90
        title = strings("en")["gan.title"]
        while time.time() < deadline:
            text = page.evaluate(SIDEBAR_JS)
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            if title in text and strings("en")["adversarial.title"] in text:
                break
            page.wait_for_timeout(25)
        assert seen, "the sidebar never appeared"
        file_list = [s for s in seen if "adversarial" in s.split() or "lstm gates" in s or "\napp\n" in f"\n{s}\n"]
        assert not file_list, f"Streamlit's file list flashed: {file_list[0][:200]!r}"
        assert title in seen[-1] and strings("en")["home.groups.generative"] in seen[-1]
        page.get_by_role("heading", name=title).wait_for(timeout=90_000)
        assert_no_streamlit_error(page)
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
