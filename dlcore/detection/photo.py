"""A learner's own photo for the box lab: an upload decoded safely and fitted to the bundled photos' 640 x 427
frame, so the typed boxes keep their meaning. The checks are the adversarial lesson's
(:func:`dlcore.classifiers.checked_image`): size, format, pixel count read from the header, no animation."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from dlcore.classifiers import UPLOAD_TYPES, ImageRejected, checked_image  # noqa: F401  (UPLOAD_TYPES: the page's)

MAX_PHOTO_BYTES = 2 << 20       # 2 MiB: a phone photo saved for the web fits; the app keeps 6 MB a session


def photo_from_upload(data: bytes, width: int = 640, height: int = 427) -> Tensor:
    """The uploaded image scaled to cover ``width`` x ``height`` and centre-cropped to it: float32 (3, H, W) in
    [0, 1], like :func:`dlcore.data.sample_image`. Raises :class:`dlcore.classifiers.ImageRejected` (``reason``:
    empty, too_large, not_image, too_many_pixels, animated, mode) before decoding anything it refuses."""
    from PIL import Image

    with checked_image(data, MAX_PHOTO_BYTES) as img:
        w, h = img.size
        scale = max(width / w, height / h)                           # cover the frame, then crop the overflow
        size = (max(width, round(w * scale)), max(height, round(h * scale)))
        try:
            rgb = img.convert("RGB").resize(size, Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise ImageRejected("not_image") from e
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    arr = np.asarray(rgb, dtype=np.float32)[top:top + height, left:left + width] / 255.0
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
