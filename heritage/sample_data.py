"""A sample consortium for demos, development and tests: three members and their holdings.

The records describe the kind of material k@borneo members hold (adat, folklore, classic
works, cultural sites, ethnic groups, cuisine, traditional games) in the consortium's languages,
so that every screen, feed and facet has something real-looking to show. The images are
synthetic (:mod:`digitization.samples`) and say so on their face.

DEMO ONLY: every sample user, the admin included, has the same fixed password,
``SAMPLE_ADMIN[1]``, printed in this source. Never load sample data into a database that
faces the internet or holds real holdings.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitization.samples import make_sample_page, make_sample_photo
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.files import File
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.users import User
from heritage.security import ADMIN
from workflows.states import CAPTURE, DESCRIPTION, NOMINATED, PUBLISHED

#: The demo login (username, password). Demo only: see the module docstring.
SAMPLE_ADMIN = ("admin", "kaborneo-demo-2024")

NOC_NKC = "http://rightsstatements.org/vocab/NoC-NKC/1.0/"
INC_EDU = "http://rightsstatements.org/vocab/InC-EDU/1.0/"
INC = "http://rightsstatements.org/vocab/InC/1.0/"
UND = "http://rightsstatements.org/vocab/UND/1.0/"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"

#: The community protocol of the one community-access sample item (and the sample reader).
ELDERS = "iban-longhouse-elders"

#: Staff users made for each institution: username suffix → role.
STAFF_ROLES = {
    "curator": "curator",
    "digitizer": "digitizer",
    "cataloguer": "cataloguer",
    "rights": "rights-officer",
}

_SAMPLE_NOTE = {
    "en": "Sample record: the images are synthetic and show no real holding.",
    "ms": "Rekod contoh: imej adalah sintetik dan tidak menunjukkan koleksi sebenar.",
    "id": "Rekaman contoh: citra bersifat sintetis dan tidak menampilkan koleksi asli.",
}

INSTITUTIONS: tuple[dict[str, Any], ...] = (
    {
        "id": "pns",
        "name": {"en": "Sarawak State Library", "ms": "Pustaka Negeri Sarawak"},
        "country": "MY",
        "place": "Kuching, Sarawak",
        "collections": (
            (
                "pns-manuscripts",
                {"en": "Malay manuscripts", "ms": "Manuskrip Melayu"},
                {
                    "en": "Jawi manuscripts of Sarawak: adat law, syair and hikayat.",
                    "ms": "Manuskrip Jawi Sarawak: undang-undang adat, syair dan hikayat.",
                },
            ),
            (
                "pns-oral-history",
                {"en": "Oral history and traditions", "ms": "Sejarah lisan dan tradisi"},
                {
                    "en": "Recorded stories, epics and festivals of Sarawak's peoples.",
                    "ms": "Rakaman cerita, epik dan perayaan kaum-kaum di Sarawak.",
                },
            ),
        ),
    },
    {
        "id": "sabahlib",
        "name": {"en": "Sabah State Library", "ms": "Perpustakaan Negeri Sabah"},
        "country": "MY",
        "place": "Kota Kinabalu, Sabah",
        "collections": (
            (
                "sabahlib-photographs",
                {"en": "Historical photographs of Sabah", "ms": "Gambar foto bersejarah Sabah"},
                {
                    "en": "Photographs of Sabah's festivals, people and places.",
                    "ms": "Gambar foto perayaan, masyarakat dan tempat di Sabah.",
                },
            ),
            (
                "sabahlib-folklore",
                {
                    "en": "Folklore and traditional knowledge",
                    "ms": "Cerita rakyat dan pengetahuan tradisional",
                },
                {
                    "en": "Folk tales, customs and games of the Kadazandusun and other peoples.",
                    "ms": "Cerita rakyat, adat resam dan permainan Kadazandusun dan kaum lain.",
                },
            ),
        ),
    },
    {
        "id": "kaltim",
        "name": {
            "en": "East Kalimantan Provincial Library and Archives Office",
            "id": "Dinas Perpustakaan dan Kearsipan Provinsi Kalimantan Timur",
        },
        "country": "ID",
        "place": "Samarinda, Kalimantan Timur",
        "collections": (
            (
                "kaltim-manuscripts",
                {
                    "en": "Manuscripts of East Kalimantan",
                    "id": "Naskah kuno Kalimantan Timur",
                    "ms": "Manuskrip Kalimantan Timur",
                },
                {
                    "en": "Chronicles of Kutai; handwritten works of the Banjar and Kutai peoples.",
                    "id": "Salasilah Kutai dan naskah tulisan tangan masyarakat Banjar dan Kutai.",
                },
            ),
            (
                "kaltim-cultural-sites",
                {"en": "Cultural sites", "id": "Situs budaya", "ms": "Tapak budaya"},
                {
                    "en": "Palaces, longhouses and cultural villages of East Kalimantan.",
                    "id": "Keraton, rumah lamin dan desa budaya di Kalimantan Timur.",
                },
            ),
        ),
    },
)


def _v(value: str, lang: str, **extra: float) -> dict[str, Any]:
    return {"value": value, "lang": lang, **extra}


_KUCHING = _v("Kuching, Sarawak", "en", lat=1.5535, lon=110.3593)
_BETONG = _v("Betong, Saribas, Sarawak", "en", lat=1.4078, lon=111.5297)
_PENAMPANG = _v("Penampang, Sabah", "en", lat=5.9190, lon=116.1090)
_KINABALU = _v("Gunung Kinabalu, Sabah", "ms", lat=6.0750, lon=116.5583)
_TAMBUNAN = _v("Tambunan, Sabah", "en", lat=5.6681, lon=116.3640)
_KOTA_KINABALU = _v("Kota Kinabalu, Sabah", "en", lat=5.9804, lon=116.0735)
_TENGGARONG = _v("Tenggarong, Kutai Kartanegara", "id", lat=-0.4236, lon=116.9867)
_SAMARINDA = _v("Samarinda, Kalimantan Timur", "id", lat=-0.5022, lon=117.1536)
_PAMPANG = _v("Desa Budaya Pampang, Samarinda", "id", lat=-0.4200, lon=117.2100)

#: (subject in en, in ms, in id) from the consortium's scope.
_ADAT = ("Customs (adat)", "Adat resam", "Adat istiadat")
_FOLKLORE = ("Folklore", "Cerita rakyat", "Cerita rakyat")
_CLASSICS = ("Classic works", "Karya klasik", "Karya klasik")
_SITES = ("Cultural sites", "Tapak budaya", "Situs budaya")
_ETHNIC = ("Ethnic groups", "Kumpulan etnik", "Suku bangsa")
_CUISINE = ("Cuisine", "Masakan tradisional", "Kuliner tradisional")
_GAMES = ("Traditional games", "Permainan tradisional", "Permainan tradisional")


def _subjects(
    *terms: tuple[str, str, str], local: str = "ms", extra: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Scope subjects in English and the institution's language, then named peoples."""
    index = 2 if local == "id" else 1
    out = [_v(term[0], "en") for term in terms] + [_v(term[index], local) for term in terms]
    return out + [_v(name, "en") for name in extra]


#: The sample items: where they go, their workflow facts, their files and their record.
#: ``pages`` is (count, script) for manuscript-like pages, or "photo" for one photograph.
ITEMS: tuple[dict[str, Any], ...] = (
    {
        "id": "pns-ms-0001",
        "collection": "pns-manuscripts",
        "state": PUBLISHED,
        "access": "public",
        "rights": NOC_NKC,
        "viewing_direction": "right-to-left",
        "pages": (4, "jawi"),
        "metadata": {
            "title": [
                _v("اوندڠ٢ عادت ملايو سراوق", "ms-Arab"),
                _v("Undang-Undang Adat Melayu Sarawak", "ms"),
                _v("The customary laws of the Sarawak Malays", "en"),
            ],
            "creator": [_v("Unknown scribe", "en"), _v("Penyalin tidak diketahui", "ms")],
            "subject": _subjects(_ADAT, _CLASSICS, extra=("Malays (Sarawak)",)),
            "description": [
                _v(
                    "A Jawi manuscript of the adat law of the Malays of Kuching: marriage, "
                    "inheritance, debts and the duties of headmen. Read right to left.",
                    "en",
                ),
                _v(
                    "Manuskrip Jawi undang-undang adat Melayu Kuching: perkahwinan, pusaka, "
                    "hutang dan tugas ketua kampung.",
                    "ms",
                ),
                _v(_SAMPLE_NOTE["en"], "en"),
            ],
            "date": ["1850~"],
            "type": [_v("Manuscript", "en"), _v("Manuskrip", "ms")],
            "format": ["image/jpeg"],
            "language": ["ms-Arab", "ms"],
            "coverage": [_KUCHING],
            "identifier": ["PNS MS 1"],
            "rights": [_v("No known copyright.", "en"), _v("Tiada hak cipta diketahui.", "ms")],
        },
    },
    {
        "id": "pns-ms-0002",
        "collection": "pns-manuscripts",
        "state": DESCRIPTION,
        "access": "staff",
        "rights": NOC_NKC,
        "viewing_direction": "right-to-left",
        "pages": (2, "jawi"),
        "metadata": {
            "title": [
                _v("شعير نصيحة", "ms-Arab"),
                _v("Syair Nasihat", "ms"),
                _v("A poem of good counsel", "en"),
            ],
            "creator": [_v("Unknown poet", "en"), _v("Penyair tidak diketahui", "ms")],
            "subject": _subjects(_CLASSICS, _ADAT),
            "description": [
                _v(
                    "A syair of advice to the young on conduct and adat, in four-line "
                    "rhyming stanzas. Being described.",
                    "en",
                ),
                _v("Syair nasihat kepada orang muda tentang budi pekerti dan adat.", "ms"),
            ],
            "date": ["18XX"],
            "type": [_v("Manuscript", "en")],
            "language": ["ms-Arab"],
            "coverage": [_KUCHING],
            "identifier": ["PNS MS 2"],
        },
    },
    {
        "id": "pns-oh-0001",
        "collection": "pns-oral-history",
        "state": PUBLISHED,
        "access": "community",
        "community": ELDERS,
        "rights": INC_EDU,
        "pages": (3, "latin"),
        "metadata": {
            "title": [
                _v("Ensera Keling enggau Kumang", "iba"),
                _v("Cerita Keling dan Kumang", "ms"),
                _v("The tale of Keling and Kumang", "en"),
            ],
            "creator": [_v("An Iban storyteller (lemambang) of the Saribas", "en")],
            "contributor": [_v("Pustaka Negeri Sarawak oral history project", "en")],
            "subject": _subjects(_FOLKLORE, _ETHNIC, extra=("Iban",)),
            "description": [
                _v(
                    "Transcript of a recorded telling of the Iban epic of the hero Keling "
                    "and Kumang. Shown only to the longhouse elders' community, as the "
                    "storyteller's family asked.",
                    "en",
                ),
                _v("Transkrip rakaman epik Iban tentang wira Keling dan Kumang.", "ms"),
                _v(_SAMPLE_NOTE["en"], "en"),
            ],
            "date": ["1962-05"],
            "type": [_v("Text", "en"), _v("Oral history", "en")],
            "format": ["image/jpeg"],
            "language": ["iba", "ms"],
            "coverage": [_BETONG],
            "identifier": ["PNS OH 1962/05"],
            "rights": [
                _v(
                    "In copyright; educational use permitted. Iban community protocol applies.",
                    "en",
                )
            ],
        },
    },
    {
        "id": "pns-oh-0002",
        "collection": "pns-oral-history",
        "state": PUBLISHED,
        "access": "public",
        "rights": CC_BY,
        "pages": "photo",
        "metadata": {
            "title": [
                _v("Gawai Dayak ba rumah panjai", "iba"),
                _v("Gawai Dayak di rumah panjang", "ms"),
                _v("Gawai Dayak at a longhouse", "en"),
            ],
            "creator": [_v("Unknown photographer", "en")],
            "subject": _subjects(_ADAT, _ETHNIC, extra=("Iban", "Gawai Dayak")),
            "description": [
                _v(
                    "The harvest festival at an Iban longhouse in the Saribas, on the first "
                    "official Gawai Dayak.",
                    "en",
                ),
                _v("Pesta menuai di rumah panjang Iban di Saribas.", "ms"),
            ],
            "date": ["1965-06-01"],
            "type": [_v("Photograph", "en"), _v("Gambar foto", "ms")],
            "format": ["image/jpeg"],
            "language": ["iba"],
            "coverage": [_BETONG],
            "identifier": ["PNS PH 1965/001"],
            "rights": [_v("Creative Commons Attribution 4.0.", "en")],
        },
    },
    {
        "id": "sabahlib-ph-0001",
        "collection": "sabahlib-photographs",
        "state": PUBLISHED,
        "access": "public",
        "rights": CC_BY,
        "pages": "photo",
        "metadata": {
            "title": [
                _v("Tadau Kaamatan", "dtp"),
                _v("Pesta Kaamatan di Penampang", "ms"),
                _v("The Kaamatan harvest festival at Penampang", "en"),
            ],
            "creator": [_v("Unknown photographer", "en")],
            "subject": _subjects(_ADAT, _ETHNIC, extra=("Kadazandusun", "Kaamatan")),
            "description": [
                _v(
                    "Villagers gather for the thanksgiving to the rice spirit after the harvest.",
                    "en",
                ),
                _v("Penduduk kampung berhimpun untuk kesyukuran selepas menuai padi.", "ms"),
            ],
            "date": ["19XX"],
            "type": [_v("Photograph", "en")],
            "format": ["image/jpeg"],
            "language": ["dtp"],
            "coverage": [_PENAMPANG],
            "identifier": ["SSL PH 0001"],
            "rights": [_v("Creative Commons Attribution 4.0.", "en")],
        },
    },
    {
        "id": "sabahlib-ph-0002",
        "collection": "sabahlib-photographs",
        "state": CAPTURE,
        "access": "staff",
        "rights": UND,
        "pages": "photo",
        "metadata": {
            "title": [
                _v("Gunung Kinabalu dari Kundasang", "ms"),
                _v("Mount Kinabalu from Kundasang", "en"),
            ],
            "creator": [_v("Unknown photographer", "en")],
            "subject": _subjects(_SITES, extra=("Kinabalu",)),
            "description": [
                _v(
                    "The mountain held sacred by the Dusun as the resting place of the "
                    "spirits of the dead. Being captured.",
                    "en",
                ),
            ],
            "date": ["1950~"],
            "type": [_v("Photograph", "en")],
            "coverage": [_KINABALU],
            "identifier": ["SSL PH 0002"],
        },
    },
    {
        "id": "sabahlib-fl-0001",
        "collection": "sabahlib-folklore",
        "state": PUBLISHED,
        "access": "public",
        "rights": NOC_NKC,
        "pages": (2, "latin"),
        "metadata": {
            "title": [
                _v("Tangon Huminodun", "dtp"),
                _v("Legenda Huminodun", "ms"),
                _v("The legend of Huminodun", "en"),
            ],
            "creator": [_v("A Kadazandusun ritual specialist (bobohizan)", "en")],
            "subject": _subjects(_FOLKLORE, _ADAT, _ETHNIC, extra=("Kadazandusun",)),
            "description": [
                _v(
                    "How Huminodun gave her life so that her people would have rice: the "
                    "story behind the Kaamatan festival.",
                    "en",
                ),
                _v("Kisah pengorbanan Huminodun supaya kaumnya mendapat padi.", "ms"),
                _v(_SAMPLE_NOTE["en"], "en"),
            ],
            "date": ["1923/1925"],
            "type": [_v("Text", "en")],
            "format": ["image/jpeg"],
            "language": ["dtp", "ms"],
            "coverage": [_TAMBUNAN],
            "identifier": ["SSL FL 0001"],
            "rights": [_v("No known copyright.", "en")],
        },
    },
    {
        "id": "sabahlib-fl-0002",
        "collection": "sabahlib-folklore",
        "state": PUBLISHED,
        "access": "metadata-only",
        "rights": INC,
        "pages": (1, "latin"),
        "metadata": {
            "title": [
                _v("Permainan tradisional Sabah: gasing dan sipak raga", "ms"),
                _v("Traditional games of Sabah: tops and sepak raga", "en"),
            ],
            "creator": [_v("Perpustakaan Negeri Sabah", "ms")],
            "publisher": [_v("Perpustakaan Negeri Sabah", "ms")],
            "subject": _subjects(_GAMES, _ETHNIC, extra=("Kadazandusun", "Bajau")),
            "description": [
                _v(
                    "A booklet on spinning tops and rattan-ball games. In copyright: the "
                    "record is public, the pages are not.",
                    "en",
                ),
                _v("Risalah tentang permainan gasing dan sepak raga.", "ms"),
            ],
            "date": ["198X"],
            "type": [_v("Text", "en")],
            "format": ["image/jpeg"],
            "language": ["ms"],
            "coverage": [_KOTA_KINABALU],
            "identifier": ["SSL FL 0002"],
            "rights": [_v("In copyright.", "en"), _v("Hak cipta terpelihara.", "ms")],
        },
    },
    {
        "id": "kaltim-ms-0001",
        "collection": "kaltim-manuscripts",
        "state": PUBLISHED,
        "access": "public",
        "rights": NOC_NKC,
        "viewing_direction": "right-to-left",
        "pages": (3, "jawi"),
        "metadata": {
            "title": [
                _v("سلسيله کوتاي", "ms-Arab"),
                _v("Salasilah Kutai", "id"),
                _v("The chronicle of Kutai", "en"),
            ],
            "creator": [_v("Unknown scribe", "en"), _v("Penyalin tidak dikenal", "id")],
            "subject": _subjects(_CLASSICS, _ADAT, local="id", extra=("Kutai",)),
            "description": [
                _v(
                    "A Jawi copy of the chronicle of the kings of Kutai Kartanegara, with "
                    "the customs of the court.",
                    "en",
                ),
                _v(
                    "Salinan Jawi salasilah raja-raja Kutai Kartanegara beserta adat "
                    "istiadat keraton.",
                    "id",
                ),
                _v(_SAMPLE_NOTE["id"], "id"),
            ],
            "date": ["1849~"],
            "type": [_v("Manuscript", "en"), _v("Naskah", "id")],
            "format": ["image/jpeg"],
            "language": ["ms-Arab"],
            "coverage": [_TENGGARONG],
            "identifier": ["DPK-KALTIM NK 1"],
            "rights": [_v("No known copyright.", "en")],
        },
    },
    {
        "id": "kaltim-ms-0002",
        "collection": "kaltim-manuscripts",
        "state": PUBLISHED,
        "access": "staff",
        "rights": INC,
        "pages": (2, "latin"),
        "metadata": {
            "title": [
                _v("Resep Wadai Banjar", "bjn"),
                _v("Catatan resep kue tradisional Banjar", "id"),
                _v("A notebook of Banjar cake recipes", "en"),
            ],
            "creator": [_v("A Banjar family of Samarinda", "en")],
            "subject": _subjects(_CUISINE, _ETHNIC, local="id", extra=("Banjar",)),
            "description": [
                _v(
                    "A handwritten notebook of wadai (traditional cakes) for feasts. It "
                    "names family members, so the family asked that it be shown to staff "
                    "only.",
                    "en",
                ),
                _v("Buku catatan tulisan tangan resep wadai untuk selamatan.", "id"),
            ],
            "date": ["1970~"],
            "type": [_v("Manuscript", "en")],
            "format": ["image/jpeg"],
            "language": ["bjn", "id"],
            "coverage": [_SAMARINDA],
            "identifier": ["DPK-KALTIM NK 2"],
            "rights": [_v("In copyright.", "en"), _v("Hak cipta dilindungi.", "id")],
        },
    },
    {
        "id": "kaltim-cs-0001",
        "collection": "kaltim-cultural-sites",
        "state": PUBLISHED,
        "access": "public",
        "rights": CC_BY,
        "pages": "photo",
        "metadata": {
            "title": [
                _v("Keraton Kutai Kartanegara di Tenggarong", "id"),
                _v("The Kutai Kartanegara palace at Tenggarong", "en"),
            ],
            "creator": [_v("Unknown photographer", "en")],
            "subject": _subjects(_SITES, local="id", extra=("Kutai",)),
            "description": [
                _v("The sultan's palace on the Mahakam river, now the Mulawarman Museum.", "en"),
                _v("Keraton sultan di tepi Sungai Mahakam, kini Museum Mulawarman.", "id"),
            ],
            "date": ["193X"],
            "type": [_v("Photograph", "en"), _v("Foto", "id")],
            "format": ["image/jpeg"],
            "coverage": [_TENGGARONG],
            "identifier": ["DPK-KALTIM FT 1"],
            "rights": [_v("Creative Commons Attribution 4.0.", "en")],
        },
    },
    {
        "id": "kaltim-cs-0002",
        "collection": "kaltim-cultural-sites",
        "state": NOMINATED,
        "access": "staff",
        "rights": "",
        "pages": None,
        "metadata": {
            "title": [
                _v("Lamin Adat Desa Budaya Pampang", "id"),
                _v("The customary longhouse (lamin) of Pampang cultural village", "en"),
            ],
            "subject": _subjects(_SITES, _ETHNIC, local="id", extra=("Kenyah",)),
            "description": [
                _v(
                    "Nominated for photography: the Kenyah Dayak lamin and its carved "
                    "and painted panels.",
                    "en",
                ),
            ],
            "language": ["xkl", "id"],
            "coverage": [_PAMPANG],
        },
    },
)


def _page_label(n: int) -> dict[str, str]:
    return {"en": f"page {n}", "ms": f"halaman {n}", "id": f"halaman {n}"}


_PHOTO_LABEL = {"en": "photograph", "ms": "gambar foto", "id": "foto"}


def _add_files(item: Item, pages: Any, staging_dir: Path) -> list[File]:
    """Draw the item's sample images into ``staging_dir`` and add them to the item."""
    item_id = item.item_id
    seed = zlib.crc32(item_id.encode())  # stable across runs, unlike hash()
    if pages is None:
        return []
    if pages == "photo":
        name = f"{item_id}.jpg"
        f = item.add_file(make_sample_photo(staging_dir / name, seed=seed), name)
        f.label = _PHOTO_LABEL
        return [f]
    count, script = pages
    files = []
    for n in range(1, count + 1):
        name = f"{item_id}-p{n:03d}.jpg"
        path = make_sample_page(staging_dir / name, seed=seed, page_no=n, script=script)
        f = item.add_file(path, name)
        f.label = _page_label(n)
        files.append(f)
    return files


def _user(root: Any, username: str, title: str, password: str) -> User:
    user = User(username, title=title, email=f"{username}@example.org")
    user.set_password(password)
    return root.users.add(username, user)


def load_sample_data(
    root: Any, staging_dir: Path, *, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Fill an empty application root with the sample consortium; return what was made.

    ``staging_dir`` must be on the blob directory's filesystem: each image is drawn there
    and then moved into its blob. The caller commits. Raises ValueError if the root
    already has institutions, so real data is never mixed with samples.
    """
    if len(root.institutions):
        raise ValueError("sample data goes only into an empty database; this one has institutions")
    staging_dir = Path(staging_dir)
    staging_dir.mkdir(parents=True, exist_ok=True)
    collections: dict[str, Collection] = {}
    for spec in INSTITUTIONS:
        institution = root.institutions.add(
            spec["id"], Institution(spec["name"], country=spec["country"], place=spec["place"])
        )
        for collection_id, title, description in spec["collections"]:
            collections[collection_id] = root.add_collection(
                institution, collection_id, Collection(title, description=description)
            )
    log(f"Sample data: {len(INSTITUTIONS)} institutions, {len(collections)} collections")

    n_files = 0
    for spec in ITEMS:
        item = Item(
            spec["id"],
            validate_record(spec["metadata"]),
            access=spec["access"],
            rights=spec["rights"],
            state=spec["state"],
            community=spec.get("community", ""),
            viewing_direction=spec.get("viewing_direction", "left-to-right"),
        )
        collections[spec["collection"]].add_item(item)  # final state first: counts stay right
        added = _add_files(item, spec["pages"], staging_dir)
        for f in added:  # tiles come from the worker, as for ingested files
            root.jobs.add("derivatives", item_id=item.item_id, file=f.__name__)
        n_files += len(added)
    log(f"Sample data: {len(ITEMS)} items with {n_files} synthetic images")

    username, password = SAMPLE_ADMIN
    _user(root, username, "Consortium administrator (demo)", password).add_role(ADMIN, None)
    n_users = 1
    for spec in INSTITUTIONS:
        for suffix, role in STAFF_ROLES.items():
            name = f"{spec['id']}-{suffix}"
            _user(root, name, f"{spec['name']['en']}: {role} (demo)", password).add_role(
                role, spec["id"]
            )
            n_users += 1
    reader = _user(root, "reader", "Longhouse elder (demo reader)", password)
    reader.communities = (ELDERS,)
    n_users += 1
    log(f"Sample data: {n_users} users, all with the demo password")
    log(f"Sample admin login: {username} / {password}")
    return {
        "institutions": len(INSTITUTIONS),
        "collections": len(collections),
        "items": len(ITEMS),
        "files": n_files,
        "users": n_users,
    }
