"""Home: the course map, every lesson grouped as in the course notes, each with a picture of its main figure and
this learner's progress on its exercises."""

import streamlit as st

from ui import catalog
from ui.frame import prefetch_charts_on_intent
from ui.i18n import t
from ui.lesson import ensure_navigation
from ui.predict import progress

ensure_navigation()
st.title(t("home.title"))
st.markdown(t("home.intro"))

lessons = [lesson for group in catalog.GROUPS for lesson in catalog.available() if lesson.group == group]
for row in range(0, len(lessons), 3):   # in syllabus order, three to a row, each card naming its part
    for col, lesson in zip(st.columns(3), lessons[row:row + 3]):
        with col.container(border=True):
            st.caption(t(f"home.groups.{lesson.group}"))
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
prefetch_charts_on_intent()   # the lesson a learner points at will need the charting chunk
