"""The 100 instance categories of the Places Challenge 2017 task, in id order (1..100).

Kept as data in the project so that the demo and the GUI work without the challenge kit.
"""

from __future__ import annotations

CATEGORY_NAMES: tuple[str, ...] = (
    "bed",
    "windowpane",
    "cabinet",
    "person",
    "door",
    "table",
    "curtain",
    "chair",
    "car",
    "painting",
    "sofa",
    "shelf",
    "mirror",
    "armchair",
    "seat",
    "fence",
    "desk",
    "wardrobe",
    "lamp",
    "bathtub",
    "railing",
    "cushion",
    "box",
    "column",
    "signboard",
    "chest of drawers",
    "counter",
    "sink",
    "fireplace",
    "refrigerator",
    "stairs",
    "case",
    "pool table",
    "pillow",
    "screen door",
    "bookcase",
    "coffee table",
    "toilet",
    "flower",
    "book",
    "bench",
    "countertop",
    "stove",
    "palm",
    "kitchen island",
    "computer",
    "swivel chair",
    "boat",
    "arcade machine",
    "bus",
    "towel",
    "light",
    "truck",
    "chandelier",
    "awning",
    "streetlight",
    "booth",
    "television receiver",
    "airplane",
    "apparel",
    "pole",
    "bannister",
    "ottoman",
    "bottle",
    "van",
    "ship",
    "fountain",
    "washer",
    "plaything",
    "stool",
    "barrel",
    "basket",
    "bag",
    "minibike",
    "oven",
    "ball",
    "food",
    "step",
    "trade name",
    "microwave",
    "pot",
    "animal",
    "bicycle",
    "dishwasher",
    "screen",
    "sculpture",
    "hood",
    "sconce",
    "vase",
    "traffic light",
    "tray",
    "ashcan",
    "fan",
    "plate",
    "monitor",
    "bulletin board",
    "radiator",
    "glass",
    "clock",
    "flag",
)

NUM_CATEGORIES = len(CATEGORY_NAMES)


def category_name(category_id: int) -> str:
    """Name of a category id, or a placeholder for ids outside 1..100."""
    if 1 <= category_id <= NUM_CATEGORIES:
        return CATEGORY_NAMES[category_id - 1]
    return f"<unknown {category_id}>"


def is_places_categories(names: dict[int, str]) -> bool:
    """True when ``{id: name}`` are exactly the challenge's 100 categories.

    The challenge's own rules (ids 1..100, at most 255 masks per image) apply to such data only;
    any other COCO-format set is judged by its own categories, as pycocotools judges it.
    """
    return names == {i + 1: n for i, n in enumerate(CATEGORY_NAMES)}


def default_categories() -> list[dict[str, object]]:
    """The categories list as it appears in imgCatIds.json."""
    return [{"id": i + 1, "name": n} for i, n in enumerate(CATEGORY_NAMES)]
