"""The image information document (info.json) of one image, from its pyramid.

It declares only what the server really does: the tiles and sizes that exist as files,
the formats and qualities the pipeline produces, the limits from configuration.
https://iiif.io/api/image/3.0/#5-image-information
"""

from __future__ import annotations

from typing import Any

from digitization.derivatives import Pyramid
from iiif.image.request import Limits

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'
EXTRA_FORMATS = ["webp", "tif"]
EXTRA_QUALITIES = ["color", "gray", "bitonal"]
#: Beyond level 2 (https://iiif.io/api/image/3.0/compliance/): all of these are implemented.
EXTRA_FEATURES = [
    "baseUriRedirect",
    "canonicalLinkHeader",
    "cors",
    "jsonldMediaType",
    "mirroring",
    "regionSquare",
    "rotationArbitrary",
    "sizeUpscaling",
]


def _scale_factors(pyramid: Pyramid) -> list[int]:
    """The pyramid's scale factors, and those of the smaller listed sizes (one tile each).

    OpenSeadragon (so Mirador) reads ``sizes`` as the pyramid's levels when there are as
    many sizes as scale factors, taking the largest size for the full image: a size
    below the last tile level then shifts every level by one and the page is drawn cut
    and stretched. Declaring those small levels as scale factors keeps the counts apart;
    their one tile, ``full/{w},{h}``, is the size file that exists anyway.
    """
    factors = list(pyramid.scale_factors)
    sizes = set(pyramid.sizes)
    s = factors[-1] * 2
    while (-(-pyramid.width // s), -(-pyramid.height // s)) in sizes:
        factors.append(s)
        s *= 2
    return factors


def build_info(
    base_id: str, pyramid: Pyramid, limits: Limits, *, rights: str = ""
) -> dict[str, Any]:
    """Return info.json for the image whose base URI is ``base_id``."""
    info: dict[str, Any] = {
        "@context": CONTEXT,
        "id": base_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": pyramid.width,
        "height": pyramid.height,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
        "sizes": [
            {"width": w, "height": h}
            for w, h in pyramid.sizes
            if w <= limits.max_width and h <= limits.max_height and w * h <= limits.max_area
        ],
        "tiles": [
            {
                "width": pyramid.tile_size,
                "height": pyramid.tile_size,
                "scaleFactors": _scale_factors(pyramid),
            }
        ],
        "extraFormats": EXTRA_FORMATS,
        "extraQualities": EXTRA_QUALITIES,
        "extraFeatures": EXTRA_FEATURES,
    }
    if rights:
        info["rights"] = rights
    return info
