"""The public URL contract (ARCHITECTURE.md): fixed URLs, traversing to the real resources."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("home", "/")
    config.add_route("item", "/items/{item_id}", traverse="/items/{item_id}")
    config.add_route("institution", "/institutions/{inst_id}", traverse="/institutions/{inst_id}")
    config.add_route("collection", "/collections/{coll_id}", traverse="/collections/{coll_id}")
    config.add_route("login", "/staff/login")
    config.add_route("logout", "/staff/logout")
    config.add_route("dashboard", "/staff/")
    config.add_route("staff_item", "/staff/items/{item_id}", traverse="/items/{item_id}")
    config.add_route(
        "staff_item_transition", "/staff/items/{item_id}/transition", traverse="/items/{item_id}"
    )
    config.add_route(
        "staff_item_upload", "/staff/items/{item_id}/upload", traverse="/items/{item_id}"
    )
    config.add_route("iiif_manifest", "/iiif/manifests/{item_id}", traverse="/items/{item_id}")
    config.add_route("iiif_collection_top", "/iiif/collection")
    config.add_route(
        "iiif_institution", "/iiif/institutions/{inst_id}", traverse="/institutions/{inst_id}"
    )
    config.add_route(
        "iiif_collection", "/iiif/collections/{coll_id}", traverse="/collections/{coll_id}"
    )
    config.add_route("iiif_changes", "/iiif/discovery/changes")
    config.add_route("iiif_changes_page", "/iiif/discovery/changes/pages/{page}")
    config.add_route("iiif_media", "/iiif/media/{item_id}/{file}", traverse="/items/{item_id}")
    config.add_route("embed", "/embed/{item_id}", traverse="/items/{item_id}")
    config.add_route("compare", "/compare")
    config.add_route("oai", "/oai")
    config.add_route("iiif_image_base", "/iiif/3/{image_id}")
    config.add_route("iiif_image_info", "/iiif/3/{image_id}/info.json")
    config.add_route("iiif_image", "/iiif/3/{image_id}/{region}/{size}/{rotation}/{quality}")
    config.add_route("api_items", "/api/items")
    config.add_route("api_item_dc", "/api/items/{item_id}/dc", traverse="/items/{item_id}")
    config.add_route("api_item_premis", "/api/items/{item_id}/premis", traverse="/items/{item_id}")
    config.add_route("api_item_events", "/api/items/{item_id}/events", traverse="/items/{item_id}")
    config.add_route("api_item", "/api/items/{item_id}", traverse="/items/{item_id}")
    config.add_route(
        "api_item_transitions", "/api/items/{item_id}/transitions", traverse="/items/{item_id}"
    )
    config.add_route("api_item_files", "/api/items/{item_id}/files", traverse="/items/{item_id}")
    config.add_route("api_institutions", "/api/institutions")
    config.add_route(
        "api_institution", "/api/institutions/{inst_id}", traverse="/institutions/{inst_id}"
    )
    config.add_route("api_collections", "/api/collections")
    config.add_route(
        "api_collection", "/api/collections/{coll_id}", traverse="/collections/{coll_id}"
    )
