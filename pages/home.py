"""Home: the course map, every lesson grouped as in the course notes, each with a picture of its main figure and
this learner's progress on its exercises."""

import streamlit as st

from ui import catalog
from ui.i18n import t
from ui.lesson import ensure_navigation
from ui.predict import progress

ensure_navigation()
st.title(t("home.title"))
st.markdown(t("home.intro"))

lessons = catalog.available()
for group in catalog.GROUPS:
    in_group = [lesson for lesson in lessons if lesson.group == group]
    if not in_group:
        continue
    st.subheader(t(f"home.groups.{group}"))
    cols = st.columns(3)
    for i, lesson in enumerate(in_group):
        with cols[i % 3].container(border=True):
            if lesson.preview.is_file():
                st.image(str(lesson.preview), width="stretch")
            st.page_link(lesson.path, label=t(f"{lesson.slug}.title"), icon=lesson.icon)
            st.write(t(f"{lesson.slug}.promise"))
            done, n = progress(lesson.slug)
            if n:
                st.progress(done / n, text=t("home.progress", done=done, n=n))
            st.caption(t("home.cited", sources=t(f"home.sources.{lesson.slug}")))

st.divider()
st.caption(t("home.footer"))
