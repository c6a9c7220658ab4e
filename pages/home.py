"""Home: the course map, every lesson grouped as in the course notes."""

import streamlit as st

from ui import catalog
from ui.i18n import t
from ui.lesson import ensure_navigation

ensure_navigation()
st.title(t("home.title"))
st.markdown(t("home.intro"))

lessons = catalog.available()
for group in catalog.GROUPS:
    in_group = [lesson for lesson in lessons if lesson.group == group]
    if not in_group:
        continue
    st.subheader(t(f"home.groups.{group}"))
    cols = st.columns(len(in_group) if len(in_group) > 1 else 2)
    for col, lesson in zip(cols, in_group):
        with col.container(border=True):
            st.page_link(lesson.path, label=t(f"{lesson.slug}.title"), icon=lesson.icon)
            st.write(t(f"{lesson.slug}.promise"))
            st.caption(t("home.cited", sources=t(f"home.sources.{lesson.slug}")))

st.divider()
st.caption(t("home.footer"))
