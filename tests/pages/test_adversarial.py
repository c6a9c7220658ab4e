"""AppTest of the adversarial lesson: figure values, widgets, presets, tabs, uploads, URL state, both languages."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits
from tests.support import all_text, figures, open_page
from ui.i18n import strings

PAGE = "pages/adversarial.py"


def _tab(at, name: str, lang: str = "en"):
    at.session_state["adversarial.tab"] = strings(lang)[f"adversarial.tabs.{name}"]
    return at.run()


def _metrics(at) -> list[str]:
    return [str(m.value) for m in at.metric]


def _attack_fig(at) -> dict:
    return next(f for f in figures(at) if len(f["data"]) == 5 and f.get("frames"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_pgd_turns_the_test_1_into_an_8_within_the_budget(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = _attack_fig(at)
    x, _ = digits("test")
    np.testing.assert_allclose(fig["data"][0]["z"], x[33, 0].numpy())          # the original digit
    assert len(fig["frames"]) == 21                                            # x0 + 20 PGD iterates
    delta = np.asarray(fig["data"][1]["z"])
    adv_img = np.asarray(fig["data"][2]["z"])
    assert np.abs(delta).max() <= 0.1 + 1e-6 and 0 <= adv_img.min() and adv_img.max() <= 1
    np.testing.assert_allclose(adv_img - x[33, 0].numpy(), delta, atol=1e-6)
    after = np.asarray(fig["data"][4]["y"])
    assert int(after.argmax()) == 8 and after.sum() == pytest.approx(1, abs=1e-4)
    assert _metrics(at)[0] == "1 → 8" and _metrics(at)[3] == strings(lang)["adversarial.metric.success"]
    assert fig["layout"]["xaxis4"]["title"]["text"] == strings(lang)["adversarial.fig.class_axis"]


def test_fgsm_at_the_same_eps_fails_and_l2_stays_inside_its_disc():
    at = open_page(PAGE, "en")
    at.segmented_control(key="adversarial.method").set_value("fgsm").run()
    assert not at.exception
    assert len(_attack_fig(at)["frames"]) == 2 and _metrics(at)[0] == "1 → 1" and _metrics(at)[3] == "no"
    at.segmented_control(key="adversarial.method").set_value("pgd").run()
    at.segmented_control(key="adversarial.norm").set_value("l2").run()
    at.slider(key="adversarial.eps_l2").set_value(0.5).run()
    assert not at.exception and not at.error
    delta = np.asarray(_attack_fig(at)["data"][1]["z"])
    assert np.linalg.norm(delta) <= 0.5 + 1e-5
    assert float(_metrics(at)[2]) == pytest.approx(np.linalg.norm(delta), abs=1e-3)
    assert at.query_params.get("adversarial.norm") == "l2" and at.query_params.get("adversarial.eps_l2") == "0.5"


def test_presets_robust_model_resists_and_targeted_attack_makes_a_3():
    at = open_page(PAGE, "en")
    at.button(key="adversarial.preset_btn.robust").click().run()
    assert not at.exception and at.session_state["adversarial.model"] == "robust"
    assert _metrics(at)[0] == "1 → 1"
    assert any("stays a 1" in i.value for i in at.info)
    at.button(key="adversarial.preset_btn.make_it_3").click().run()
    assert not at.exception and at.session_state["adversarial.targeted"]
    fig = _attack_fig(at)
    assert int(np.asarray(fig["data"][4]["y"]).argmax()) == 3 and _metrics(at)[0] == "1 → 3"
    assert len(fig["layout"]["shapes"]) == 2                                   # true-class and target bands
    assert np.abs(np.asarray(fig["data"][1]["z"])).max() <= 0.15 + 1e-6
    at.selectbox(key="adversarial.target").set_value(1).run()                 # the digit's own class
    assert not at.exception and not at.error
    assert any(i.value == strings("en")["adversarial.target_is_label"] for i in at.info)


def test_geometry_tab_and_projection_preset_in_chinese():
    at = _tab(open_page(PAGE, "zh"), "geometry", "zh")
    assert not at.exception and not at.error
    fig = next(f for f in figures(at) if f.get("frames"))
    assert fig["layout"]["xaxis"]["title"]["text"] == "x₁" and "双月牙" in fig["layout"]["title"]["text"]
    its = np.column_stack([fig["data"][9]["x"], fig["data"][9]["y"]])
    assert len(its) == 11 and np.abs(its - [0.62, 0.5]).max() <= 0.08 + 1e-6   # inside the L-inf square
    assert fig["data"][4]["line"]["dash"] == "solid" and fig["data"][5]["line"]["dash"] == "dot"
    at.button(key="adversarial.preset_btn.projection").click().run()
    assert not at.exception
    fig = next(f for f in figures(at) if f.get("frames"))
    its = np.column_stack([fig["data"][9]["x"], fig["data"][9]["y"]])
    assert np.linalg.norm(its - [0.62, 0.5], axis=1).max() <= 0.1 + 1e-6     # inside the L2 disc
    assert fig["data"][5]["line"]["dash"] == "solid"
    assert "橙色虚线段" in all_text(at)


def test_curves_tab_starts_at_clean_accuracy_and_pgd_never_beats_fgsm():
    at = _tab(open_page(PAGE, "en"), "curves")
    assert not at.exception and not at.error
    fig = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Test accuracy"))
    acc = {d["name"]: np.asarray(d["y"]) for d in fig["data"][:4]}
    x, y = digits("test")
    clean = clf.accuracy(clf.load_digits_cnn(), x, y)
    assert acc["Standard model, PGD-20"][0] == pytest.approx(clean)
    np.testing.assert_allclose(np.asarray(fig["data"][0]["x"]), adv.CURVE_EPS["linf"])
    for model in ("Standard model", "Adversarially trained"):
        assert (acc[f"{model}, PGD-20"] <= acc[f"{model}, FGSM"] + 1e-9).all()
    assert acc["Adversarially trained, PGD-20"][4] > acc["Standard model, PGD-20"][4] + 0.2   # eps = 0.1
    assert list(fig["data"][4]["x"]) == [0.1, 0.1]                                          # the chosen eps


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_uploaded_digit_is_attacked_and_bad_files_get_translated_messages():
    at = open_page(PAGE, "zh", query={"adversarial.source": "upload"})
    assert not at.exception and any("上传" in i.value for i in at.info)
    img = np.full((64, 48), 255, dtype=np.uint8)
    img[4:60, 20:28] = 0                                                  # a dark "1" on white paper
    at.file_uploader(key="adversarial.upload").set_value(("one.png", _png(img), "image/png")).run()
    assert not at.exception and not at.error
    assert _metrics(at)[0].startswith("1 →")
    z = np.asarray(_attack_fig(at)["data"][0]["z"])
    assert z.shape == (8, 8) and z.max() == pytest.approx(1) and z[:, :3].max() == 0    # ink in the middle columns
    at.file_uploader(key="adversarial.upload").set_value(("x.png", b"definitely not a png", "image/png")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [strings("zh")["adversarial.bad_upload.not_image"]]
    assert _attack_fig(at)                                                # the test digit is attacked instead


def test_url_reopens_the_experiment_and_bad_values_fall_back_to_defaults_with_one_note():
    at = open_page(PAGE, "en", query={"adversarial.method": "bim", "adversarial.eps": "0.2", "adversarial.index": "56"})
    assert not at.exception and not at.warning
    assert at.session_state["adversarial.method"] == "bim" and at.session_state["adversarial.eps"] == 0.2
    np.testing.assert_allclose(_attack_fig(at)["data"][0]["z"], digits("test")[0][56, 0].numpy())
    # the policy of every lesson (ui.state.bind): a value out of range is dropped, not clamped, and named in one note
    bad = {"adversarial.eps": "5", "adversarial.steps": "1000", "adversarial.alpha": "abc", "adversarial.method": "cw",
           "adversarial.index": "-3", "adversarial.target": "12"}
    at = open_page(PAGE, "en", query=bad)
    assert not at.exception and not at.error
    assert {k: at.session_state[k] for k in bad} == {"adversarial.eps": 0.1, "adversarial.steps": 20,
                                                     "adversarial.alpha": 0.01, "adversarial.method": "pgd",
                                                     "adversarial.index": 33, "adversarial.target": 3}
    assert len(at.warning) == 1
    note = at.warning[0].value
    assert note.startswith(strings("en")["app.url.note"]) and "clamped" not in note
    assert all(k in note for k in bad)
    assert note.count(strings("en")["app.url.out_of_range"]) == 3    # eps, steps, index
    assert "adversarial.eps" not in at.query_params                  # the link no longer carries the bad value


def test_every_figure_offers_its_data_and_controls_have_the_declared_ranges():
    from ui.experiments import adversarial as experiment
    from ui.params import by_name

    declared = by_name(experiment.SETTINGS)
    at = open_page(PAGE, "en")
    assert [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")] == ["adversarial.attack_fig.csv"]
    eps = at.slider(key="adversarial.eps")
    assert (eps.min, eps.max, eps.step) == (declared["eps"].lo, declared["eps"].hi, declared["eps"].step)
    assert at.slider(key="adversarial.steps").max == declared["steps"].hi == adv.MAX_STEPS
    assert at.number_input(key="adversarial.index").max == declared["index"].hi == experiment.N_TEST - 1
    at.segmented_control(key="adversarial.norm").set_value("l2").run()
    assert at.slider(key="adversarial.eps_l2").max == declared["eps_l2"].hi == adv.MAX_EPS["l2"]
    at = _tab(at, "geometry")
    assert [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")] == ["adversarial.geometry_fig.csv"]
    assert at.slider(key="adversarial.geo_steps").max == declared["geo_steps"].hi


def _png_claiming(width: int, height: int) -> bytes:
    """A ~100-byte PNG whose header claims width x height (8-bit grey): a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_upload_claiming_20000_by_20000_pixels_gets_a_translated_message(lang):
    at = open_page(PAGE, lang, query={"adversarial.source": "upload"})
    at.file_uploader(key="adversarial.upload").set_value(("bomb.png", _png_claiming(20_000, 20_000), "image/png")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [strings(lang)["adversarial.bad_upload.too_many_pixels"]]
    assert _attack_fig(at)                                                # the test digit is attacked instead
