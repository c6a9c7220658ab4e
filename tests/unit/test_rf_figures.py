"""The unit picture is drawn anew for every unit and layer, so it is written as plain JSON on a cached
Plotly-built layout: Plotly must still accept every property, and the picture must show the field that
autograd and the recurrence give."""

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from dlcore import receptive_field as rf
from tests.support import _decode
from ui.figures import receptive_field as figs


def _picture(spec: str, n: int, row: int, col: int):
    u = rf.unit_field(rf.parse_spec(spec), n, 3, row, col)
    photo = rf.photo(min(n, figs.MAX_DISPLAY), "china")
    fig = figs.unit_picture(u.grad, photo, u.box, u.centres, (row, col), titles=("grid", "photo"), title="title",
                            hover_unit="unit", hover_pixel="pixel")
    return u, photo, _decode(fig.to_dict())


def test_plotly_accepts_the_unit_picture_and_it_shows_the_field_and_the_stride_grid():
    u, photo, spec = _picture("c3,c3,m2s2,c3", 64, 2, 3)
    go.Figure(spec)                                    # raises ValueError on any invalid property or value
    heat, image, dots, star, dots2, star2 = spec["data"]
    z = np.asarray(heat["z"])
    rows, cols = np.nonzero(z)
    top, bottom, left, right = u.box                   # the field: where the unit's gradient is non-zero
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (max(top, 0), min(bottom, 63), max(left, 0),
                                                                min(right, 63))
    assert z.max() == 1.0                              # normalised path counts
    np.testing.assert_array_equal(np.unique(dots["x"]), u.centres)
    assert star["x"] == [u.centres[3]] and star["y"] == [u.centres[2]] and star["customdata"] == [[2, 3]]
    assert (dots2["xaxis"], star2["yaxis"], image["xaxis"]) == ("x2", "y2", "x2")
    field = spec["layout"]["shapes"][1]
    assert (field["x0"], field["x1"], field["y0"], field["y1"]) == (left - 0.5, right + 0.5, top - 0.5, bottom + 0.5)
    png = base64.b64decode(image["source"].split(",", 1)[1])
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), photo)   # the photo, losslessly
    lay = spec["layout"]
    assert lay["yaxis"]["scaleanchor"] == "x" and lay["yaxis2"]["scaleanchor"] == "x2"
    assert lay["yaxis"]["range"][0] > lay["yaxis"]["range"][1]                      # row 0 at the top
    assert [a["text"] for a in lay["annotations"]] == ["grid", "photo"] and lay["title"]["text"] == "title"


def test_the_photo_is_encoded_once_and_layouts_are_not_shared():
    _, _, a = _picture("c3,c3", 32, 0, 0)
    _, _, b = _picture("c3,c3", 32, 5, 7)
    assert a["data"][1]["source"] is not None and a["data"][1]["source"] == b["data"][1]["source"]
    assert figs._png_of.cache_info().hits >= 1
    a["layout"]["shapes"].clear()
    _, _, c = _picture("c3,c3", 32, 0, 0)
    assert len(c["layout"]["shapes"]) == 5
