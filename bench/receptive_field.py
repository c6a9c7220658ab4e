"""Receptive-field lesson: the layer table (at defaults and at the 100-layer cap), the autograd field
of one unit, the effective-field maps (20 layers, 128 x 128) and the depth curve, figure JSON sizes."""

from __future__ import annotations

from bench import Row, best_of


def run() -> list[Row]:
    from dlcore import famous_cnns as zoo
    from dlcore import receptive_field as rf
    from ui.figures import receptive_field as figs

    rows: list[Row] = []
    notes = zoo.network_layers("notes7")
    resnet = zoo.network_layers("resnet50")
    cap = [rf.Layer("conv", 3, padding=1, channels=64)] * rf.MAX_LAYERS
    rows.append(Row("receptive_field", "table: notes example (7 layers)", best_of(
        lambda: rf.table(notes, 64, 3)), "ms"))
    rows.append(Row("receptive_field", "table: ResNet-50 main path (50 layers)", best_of(
        lambda: rf.table(resnet, 224, 3)), "ms"))
    rows.append(Row("receptive_field", f"table: {rf.MAX_LAYERS} layers (cap)", best_of(lambda: rf.table(cap, 224, 3)),
                    "ms", "target <= 20 ms"))
    rows.append(Row("receptive_field", "parse_frame + to_spec: 100 rows", best_of(
        lambda: rf.to_spec(rf.parse_frame(rf.to_frame(cap)).layers)), "ms"))
    rows.append(Row("receptive_field", "torch check (meta): ResNet-50", best_of(
        lambda: rf.torch_check(resnet, 224, 3)), "ms"))
    rows.append(Row("receptive_field", "walk ResNet-50 torch module", best_of(
        lambda: zoo.network_layers("resnet50")), "ms"))
    rows.append(Row("receptive_field", "unit field (autograd): notes, 64x64", best_of(
        lambda: rf.unit_field(notes, 64, 3, 2, 2)), "ms"))
    rows.append(Row("receptive_field", "unit field (autograd): ResNet-50, 224x224", best_of(
        lambda: rf.unit_field(resnet, 224, 3, 3, 3), repeat=3), "ms"))
    rows.append(Row("receptive_field", "unit field (autograd): 100 layers, 1024x1024 (caps)", best_of(
        lambda: rf.unit_field(cap, 1024, 3, 512, 512), repeat=2), "ms"))
    stack20 = rf.stack(20)
    rows.append(Row("receptive_field", "effective field: 20 layers, 128x128, 4 seeds", best_of(
        lambda: rf.effective_field(stack20, rf.ERFConfig(128, True, 4, 0)), repeat=3), "ms", "target <= 1000 ms"))
    rows.append(Row("receptive_field", "effective field: 20 layers, 128x128, 8 seeds (cap)", best_of(
        lambda: rf.effective_field(stack20, rf.ERFConfig(128, True, 8, 0)), repeat=2), "ms"))
    rows.append(Row("receptive_field", "effective field: 100-layer table, 128x128, 8 seeds (caps)", best_of(
        lambda: rf.effective_field(cap, rf.ERFConfig(128, True, 8, 0)), repeat=1), "ms"))
    rows.append(Row("receptive_field", "effective field: defaults (10 layers, 21x21, 4 seeds)", best_of(
        lambda: rf.effective_field(rf.stack(10), rf.ERFConfig(21, True, 4, 0))), "ms"))
    rows.append(Row("receptive_field", "depth curve: 20 layers, 4 seeds", best_of(
        lambda: rf.erf_growth(20, seeds=4), repeat=2), "ms"))
    rows.append(Row("receptive_field", "depth curve: 20 layers, pooling, 8 seeds (caps)", best_of(
        lambda: rf.erf_growth(20, pool_every=4, seeds=8), repeat=1), "ms"))
    for name, layers, n in (("notes 64x64", notes, 64), ("ResNet-50 224x224", resnet, 224),
                            ("100 layers 1024x1024", cap, 1024)):
        u = rf.unit_field(layers, n, 3, 0, 0)
        fig = figs.unit_picture(u.grad, rf.photo(min(n, figs.MAX_DISPLAY)), u.box, u.centres, (0, 0), titles=("a", "b"),
                                title="t", hover_unit="u", hover_pixel="p")
        rows.append(Row("receptive_field", f"unit figure JSON: {name}", len(fig.to_json()) / 2**20, "MB",
                        "target <= 1 MB"))
    return rows
