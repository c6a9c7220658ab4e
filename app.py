"""DL Lab frame: page config, language, sidebar and navigation over every lesson."""

import streamlit as st

from ui import catalog
from ui.frame import share_link, sidebar_device, sidebar_top
from ui.i18n import t

st.set_page_config(page_title="DL Lab", page_icon=":material/school:", layout="wide")

sidebar_top()

home = st.Page("pages/home.py", title=t("home.title"), icon=":material/map:", default=True)
sections: dict[str, list[st.Page]] = {t("home.nav"): [home]}
for lesson in catalog.available():
    page = st.Page(lesson.path, title=t(f"{lesson.slug}.title"), icon=lesson.icon, url_path=lesson.slug)
    sections.setdefault(t(f"home.groups.{lesson.group}"), []).append(page)

pg = st.navigation(sections)
pg.run()

sidebar_device()  # after the page: the home page is on screen before torch is imported
share_link()
