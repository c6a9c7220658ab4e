"""dlcore.detection.segmentation: the bilinear transposed convolution against torch's bilinear interpolation, the
FCN's shapes, per-class IoU against scikit-learn, and the bundled FCN's held-out scores."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix, jaccard_score

from dlcore.detection import BoxError, detector, segmentation


@pytest.mark.parametrize("stride", [2, 4, 8])
def test_bilinear_transposed_convolution_equals_torch_bilinear_interpolation_inside(stride):
    """d2l's claim: a transposed convolution with kernel 2s, stride s, padding s/2 and the bilinear kernel upsamples
    by s like bilinear interpolation. Checked against F.interpolate away from the border (where the transposed
    convolution sees zeros and interpolation repeats the edge)."""
    x = torch.rand(1, 3, 6, 7, generator=torch.Generator().manual_seed(stride), dtype=torch.float64)
    w = segmentation.bilinear_kernel(3, 2 * stride).double()
    up = F.conv_transpose2d(x, w, stride=stride, padding=stride // 2)
    ref = F.interpolate(x, scale_factor=stride, mode="bilinear", align_corners=False)
    assert up.shape == ref.shape == (1, 3, 6 * stride, 7 * stride)
    m = stride                                                      # one input cell of margin
    torch.testing.assert_close(up[..., m:-m, m:-m], ref[..., m:-m, m:-m], rtol=1e-12, atol=1e-12)


def test_bilinear_kernel_by_hand_for_k4():
    """k = 4: f = 2, centre 1.5, the 1-D filter is 1 - |i - 1.5| / 2 = [0.25, 0.75, 0.75, 0.25]."""
    w = segmentation.bilinear_kernel(2, 4)
    row = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(w[0, 0], row[:, None] * row[None, :])
    assert float(w[0, 1].abs().sum()) == 0 and float(w[1, 0].abs().sum()) == 0


def test_fcn_path_shapes_and_the_output_size_formula():
    model = segmentation.TinyFCN()
    path = segmentation.segment(model, torch.rand(3, 64, 64))
    assert path.shapes == ((3, 64, 64), (8, 32, 32), (16, 16, 16), (32, 8, 8), (4, 8, 8), (4, 64, 64))
    assert (8 - 1) * 8 - 2 * 4 + 16 == 64                              # (i - 1)s - 2p + k
    assert path.labels.shape == (64, 64) and path.coarse.shape == (4, 8, 8)
    with pytest.raises(BoxError):
        segmentation.segment(model, torch.rand(3, 60, 60))


def test_untrained_fcn_upsamples_its_scores_bilinearly():
    model = segmentation.TinyFCN()
    coarse = torch.rand(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        up = model.up(coarse)
    ref = F.interpolate(coarse, scale_factor=8, mode="bilinear", align_corners=False)
    torch.testing.assert_close(up[..., 8:-8, 8:-8], ref[..., 8:-8, 8:-8], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_confusion_and_class_iou_equal_sklearn(seed):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 4, (5, 16, 16), generator=g)
    pred = torch.where(torch.rand(5, 16, 16, generator=g) < 0.7, target, torch.randint(0, 4, (5, 16, 16), generator=g))
    conf = segmentation.confusion_matrix(pred, target)
    assert conf.tolist() == confusion_matrix(target.reshape(-1), pred.reshape(-1), labels=range(4)).tolist()
    ref = jaccard_score(target.reshape(-1), pred.reshape(-1), average=None, labels=range(4))
    torch.testing.assert_close(segmentation.class_iou(conf), torch.tensor(ref, dtype=torch.float64))


def test_class_iou_is_nan_for_an_absent_label_and_one_for_a_perfect_prediction():
    target = torch.tensor([[0, 1], [1, 0]])
    iou = segmentation.class_iou(segmentation.confusion_matrix(target, target, 3))
    assert iou[:2].tolist() == [1.0, 1.0] and torch.isnan(iou[2])


def test_fcn_training_is_deterministic():
    config = segmentation.SegConfig(n_train=16, steps=3, batch_size=4)
    (m1, h1), (m2, h2) = segmentation.train_fcn(config), segmentation.train_fcn(config)
    assert h1 == h2
    for p, q in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_scene_masks_label_exactly_the_painted_pixels():
    for i in range(10):
        s = detector.make_scene(2, i)
        painted = (s.image - 0.15).min(dim=0).values > 0.08 + 1e-6
        assert torch.equal(s.mask > 0, painted)
        for box, c in zip(s.boxes.long().tolist(), s.classes.tolist()):
            x1, y1, x2, y2 = box
            inside = s.mask[y1:y2, x1:x2]
            assert set(inside.unique().tolist()) <= {0, c + 1}


def test_bundled_fcn_reproduces_its_recorded_held_out_iou():
    report = json.loads((segmentation.MODELS_DIR / "training.json").read_text(encoding="utf-8"))
    result = segmentation.evaluate_fcn(segmentation.load_fcn())
    assert result.mean_iou == pytest.approx(report["fcn_held_out_miou"], abs=1e-6)
    assert result.mean_iou == pytest.approx(float(result.iou.mean()))
    assert float(result.iou.min()) > 0.5
    assert int(result.confusion.sum()) == 200 * 64 * 64
