"""A straight Python 3 port of the challenge kit's ``convert_anns_to_json_dataset.py``.

Kept as the yardstick for :mod:`placeseg_core.convert`: tests compare the two outputs and
``benchmarks/convert.py`` times both. It follows the original line by line — one full-image
comparison per instance, one ``encode`` per instance — changing only what Python 3 requires
(image reader; ``counts`` bytes -> str and ``area`` numpy int -> int, so the output can be
written as JSON at all). Not used by the tool itself.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as COCOmask  # noqa: N812 (the original's name)


def convert_reference(ann_dir: str, img_cat_ids_file: str, first_id: int = 0) -> dict[str, Any]:
    with open(img_cat_ids_file) as handle:
        data_dict = json.load(handle)
    img2id = {x["file_name"]: x["id"] for x in data_dict["images"]}
    img2info = {x["file_name"]: x for x in data_dict["images"]}
    categories = data_dict["categories"]
    images = []
    images_unique = set()
    annotations = []
    ann_id = first_id
    files_ann = sorted(glob.glob(os.path.join(ann_dir, "*.png")))
    for file_ann in files_ann:
        file_name = os.path.basename(file_ann).replace(".png", ".jpg")
        img_id = img2id[file_name]
        if file_name not in images_unique:
            images_unique.add(file_name)
            images.append(img2info[file_name])
        ann_mask = np.asarray(Image.open(file_ann).convert("RGB"))  # scipy.misc.imread is gone
        om = ann_mask[:, :, 0]
        oi = ann_mask[:, :, 1]
        for inst_idx in np.unique(oi):
            if inst_idx == 0:
                continue
            imask = oi == inst_idx
            cat_id = om[imask][0]
            rle = COCOmask.encode(np.asfortranarray(imask.astype(np.uint8)))
            rle["counts"] = rle["counts"].decode("ascii")  # Python 3: bytes are not JSON
            ann = {}
            ann["id"] = ann_id
            ann_id += 1
            ann["image_id"] = img_id
            ann["segmentation"] = rle
            ann["category_id"] = int(cat_id)
            ann["iscrowd"] = 0
            ann["area"] = int(np.sum(imask))  # Python 3: numpy ints are not JSON
            annotations.append(ann)
    return {"categories": categories, "images": images, "annotations": annotations}
