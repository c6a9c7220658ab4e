"""DL Lab frame: page config, language, sidebar and navigation over every lesson."""

import streamlit as st

from ui import catalog, present
from ui.frame import navigation, presenter_toggle, share_link, sidebar_device, sidebar_top
from ui.i18n import t
from ui.present import handle_join, is_presenting, join_panel, presenter_styles, reset_session_button
from ui.runtime import end_turn, guard_clear_cache, guard_uploads, guard_widget_values, prune_widget_metadata


def main() -> None:
    guard_clear_cache()       # no browser may clear the class's caches (once per process)
    guard_uploads()           # nor fill the server's memory with uploads
    guard_widget_values()     # nor break a session with a widget value of the wrong kind
    prune_widget_metadata()   # Streamlit keeps every widget's callbacks (and their page namespaces) otherwise
    st.set_page_config(page_title="DL Lab", page_icon=":material/school:", layout="wide",
                       initial_sidebar_state="collapsed" if is_presenting() else "auto")

    home = st.Page("pages/home.py", title=t("home.title"), icon=":material/map:", default=True)
    sections: dict[str, list[st.Page]] = {t("home.nav"): [home]}
    by_url_path = {"": home}
    for lesson in catalog.available():
        page = st.Page(lesson.path, title=t(f"{lesson.slug}.title"), icon=lesson.icon, url_path=lesson.slug)
        sections.setdefault(t(f"home.groups.{lesson.group}"), []).append(page)
        by_url_path[lesson.slug] = page

    pg = st.navigation(sections, position="hidden")   # drawn by ui.frame.navigation instead (no flash)
    navigation(sections)
    sidebar_top()
    present.restore_class()   # a learner who joined a class on this browser is in it again (before the page: its polls)
    handle_join(by_url_path)
    if is_presenting():
        presenter_styles()
        join_panel(pg.url_path)
    pg.run()

    sidebar_device()  # after the page: the home page is on screen before torch is imported
    presenter_toggle()
    share_link()
    present.class_sidebar()
    reset_session_button()
    end_turn()        # the last thing of every whole-page run: a reveal's turn (ui.predict) goes to the next student


# A training worker (ui.runtime.offload) is spawned while this script is Streamlit's __main__, and a spawned
# process re-imports the main script under the name "__mp_main__": there it must draw nothing.
if __name__ != "__mp_main__":
    main()
