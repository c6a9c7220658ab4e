"""The receptive-field lesson in a real browser: the field is drawn, clicking a unit or a preset
recomputes, the table editor and the effective-field tab work, in English and Chinese."""

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import (
    assert_no_streamlit_error,
    goto,
    plot_titles,
    screenshot,
    steady_box,
    wait_for_title,
    wait_idle,
)


def test_clicking_a_unit_moves_its_field_in_english(page, app_url):
    goto(page, app_url, path="receptive_field", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    # the first figure on the page can be drawn before the unit figure's title is (a CI run read it too early)
    wait_for_title(page, "t.startsWith('Unit (2, 2) of layer 7: field r = 30')")
    wait_idle(page)
    assert plot_titles(page)[0].startswith("Unit (2, 2) of layer 7")   # the click below aims at the first figure
    page.get_by_text("exactly the formula's square").first.wait_for()
    assert page.get_by_text("exactly the formula's square").count() == 1
    screenshot(page, "receptive_field-default-en")
    # click the stride-grid dot of unit (0, 0) in the left panel: the first dot of trace 2
    page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        const pt = {curveNumber: 2, pointNumber: 0, pointIndex: 0, x: gd.data[2].x[0], y: gd.data[2].y[0],
                    customdata: [0, 0], data: gd.data[2], fullData: gd._fullData[2]};
        gd.emit('plotly_selected', {points: [pt]});
    }""")
    wait_idle(page)
    wait_for_title(page, "t.startsWith('Unit (0, 0) of layer 7')")
    assert page.get_by_role("spinbutton", name="Unit row").input_value() == "0"
    assert "receptive_field.row=0" in page.url
    assert_no_streamlit_error(page)
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "receptive_field-unit00-en")


def test_famous_network_and_preset_in_chinese(page, app_url):
    goto(page, app_url, path="receptive_field", lang="zh", query="receptive_field.model=resnet50")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    wait_for_title(page, "t.includes('感受野 r = 427')")
    assert page.get_by_text("与 Araujo 等人（2019）给出的一致").count() == 1
    assert_no_streamlit_error(page)
    screenshot(page, "receptive_field-resnet50-zh")
    page.get_by_role("button", name="两个 3×3 = 一个 5×5").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('感受野 r = 5')")
    page.get_by_text("73,856").first.wait_for()
    assert "receptive_field.net=" in page.url
    assert_no_streamlit_error(page)


def test_editing_the_table_recomputes_and_bad_cells_get_a_message(page, app_url):
    goto(page, app_url, path="receptive_field", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    wait_idle(page)
    # the glide grid is a canvas: row 1's kernel cell sits after the row selector (~32 px) and the
    # #, name and layer columns (40 + 64 + 96 px, set on the page), below the 35 px header. Measure the
    # grid once it has stopped moving (on a loaded machine a click measured too early lands elsewhere), and
    # check that the cell editor opened before typing into it.
    editor = page.locator("#portal .gdg-input")
    for _ in range(3):
        box = steady_box(grid)
        page.mouse.click(box["x"] + 32 + 40 + 64 + 96 + 20, box["y"] + 35 + 17)
        page.keyboard.press("Enter")                   # open the cell editor (its value selected)
        try:
            editor.first.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    editor.first.fill("5")
    editor.first.press("Enter")
    wait_idle(page)
    screenshot(page, "receptive_field-edited-en")
    wait_for_title(page, "t.includes('field r = 32')", timeout=90_000)
    # the URL is written at the end of the run, after the figure: wait for it, then for the run to finish
    page.wait_for_function("() => location.href.includes('receptive_field.net=c5')", timeout=90_000)
    wait_idle(page)
    assert_no_streamlit_error(page)
    # Enter moved the grid's selection down to row 2's kernel: clear it
    page.keyboard.press("Delete")
    wait_idle(page)
    page.get_by_text("Row 2: Kernel k is empty").wait_for()
    wait_for_title(page, "t.includes('of layer 1: field r = 5')")
    screenshot(page, "receptive_field-bad-cell-en")


def test_effective_field_tab_draws_maps_and_growth(page, app_url):
    goto(page, app_url, path="receptive_field", lang="en", query="receptive_field.erf_depth=12")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Effective vs theoretical").click()
    wait_idle(page)
    wait_for_title(page, "t.startsWith('Field width against depth')")
    titles = plot_titles(page)
    assert any(t.startswith("Theoretical field 25 px") for t in titles)
    assert_no_streamlit_error(page)
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "receptive_field-erf-en")


def test_the_layer_editor_shows_every_column_at_1400_px_in_both_languages(page, app_url):
    """Issue 31: the table cut off its last columns. Its grid scrolls sideways by no more than a pixel or two."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    for lang in ("zh", "en"):
        goto(page, app_url, path="receptive_field", lang=lang)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        editor = page.locator('[data-testid="stDataFrame"]').first
        editor.scroll_into_view_if_needed()
        wait_idle(page)
        over = editor.evaluate("""e => Array.from(e.querySelectorAll('.dvn-scroller'))
                                        .map(s => s.scrollWidth - s.clientWidth)""")
        editor.screenshot(path=str(screenshot(page, f"receptive_field-editor-{lang}")))
        assert over and max(over) <= 2, f"{lang}: the editor hides {max(over or [0])} px of columns"
        assert_no_streamlit_error(page)
