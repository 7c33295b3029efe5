"""The one search function on both databases: Indonesian words, accents, prefixes, filters."""

from __future__ import annotations

import pytest

from portal.mall import services as mall
from portal.mall.search import fold, terms
from tests.factories import make_product, make_shop


def _names(page) -> list[str]:
    return [p.name for p in page.products]


def test_fold_lowers_strips_accents_and_punctuation():
    assert fold("  Kéripik PISANG-manis!! ") == "keripik pisang manis"
    assert terms("Kopi, Gayo; Arabika") == ["kopi", "gayo", "arabika"]


@pytest.fixture
def goods(ctx):
    shop = make_shop(name="Dapur Bu Sari", halal_number="ID12110000123450822")
    other = make_shop(name="Ulos Tenun Lubuk Pakam", status="submitted")
    make_product(shop=shop, name="Kéripik Pisang Manis", price_min=15_000, category_id=None)
    make_product(shop=shop, name="Kopi Gayo Arabika", price_min=85_000, description="Biji sangrai")
    make_product(shop=shop, name="Rempeyek Kacang", price_min=12_000, availability="preorder")
    make_product(shop=other, name="Ulos Ragi Hotang", price_kind="range", price_min=450_000,
                 price_max=900_000)  # fmt: skip
    make_product(shop=other, name="Kain Songket", price_kind="ask", price_min=None)
    make_product(shop=shop, name="Kopi Draft", status="draft")
    return shop, other


def test_words_match_as_prefixes_without_accents(goods):
    assert _names(mall.catalogue(mall.CatalogueQuery(q="keripik"))) == ["Kéripik Pisang Manis"]
    assert _names(mall.catalogue(mall.CatalogueQuery(q="KERI pis"))) == ["Kéripik Pisang Manis"]
    assert _names(mall.catalogue(mall.CatalogueQuery(q="kop"))) == ["Kopi Gayo Arabika"]  # no draft
    assert _names(mall.catalogue(mall.CatalogueQuery(q="sangrai"))) == ["Kopi Gayo Arabika"]
    # The shop's name is searched too.
    assert set(_names(mall.catalogue(mall.CatalogueQuery(q="bu sari")))) == {
        "Kéripik Pisang Manis", "Kopi Gayo Arabika", "Rempeyek Kacang",
    }  # fmt: skip
    assert _names(mall.catalogue(mall.CatalogueQuery(q="durian"))) == []


def test_words_filter_the_same_products_in_every_ordering(goods):
    """Relevance joins the scored matches; the other orderings filter by a plain condition
    (search.match_condition). Both must find exactly the same products."""
    for words, expected in (("kopi", {"Kopi Gayo Arabika"}), ("bu sari", 3), ("durian", set())):
        found = {
            sort: set(_names(mall.catalogue(mall.CatalogueQuery(q=words, sort=sort))))
            for sort in ("relevance", "newest", "price_asc", "price_desc")
        }
        assert found["relevance"] == found["newest"] == found["price_asc"] == found["price_desc"]
        if isinstance(expected, int):
            assert len(found["newest"]) == expected
        else:
            assert found["newest"] == expected
    assert _names(mall.catalogue(mall.CatalogueQuery(q="dapur", sort="price_asc"))) == [
        "Rempeyek Kacang", "Kéripik Pisang Manis", "Kopi Gayo Arabika",
    ]  # fmt: skip


def test_filters_combine(goods):
    q = mall.CatalogueQuery
    assert _names(mall.catalogue(q(verified_only=True, q="ulos"))) == []
    assert _names(mall.catalogue(q(halal_only=True, available_now=True, sort="price_asc"))) == [
        "Kéripik Pisang Manis", "Kopi Gayo Arabika",
    ]  # fmt: skip
    assert _names(mall.catalogue(q(price_min=100_000, sort="price_asc"))) == ["Ulos Ragi Hotang"]
    assert _names(mall.catalogue(q(price_max=20_000, sort="price_desc"))) == [
        "Kéripik Pisang Manis", "Rempeyek Kacang",
    ]  # fmt: skip


def test_keyset_pages_cover_everything_once(goods):
    for sort in ("newest", "price_asc", "price_desc"):
        seen, cursor = [], None
        while True:
            page = mall.catalogue(mall.CatalogueQuery(sort=sort), cursor, per_page=2)
            seen += _names(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = 5 if sort == "newest" else 4  # "ask the seller" has no price to sort by
        assert len(seen) == len(set(seen)) == expected, (sort, seen)
    prices = [p.price_min for p in mall.catalogue(mall.CatalogueQuery(sort="price_asc")).products]
    assert prices == sorted(prices)


def test_a_suspended_shop_and_a_blocked_product_disappear(goods, ctx):
    shop, _other = goods
    from portal.accounts.models import Role
    from tests.factories import make_user

    admin = make_user(roles=(Role.ADMIN,))
    mall.suspend_shop(shop, admin, "Uji")
    assert "Kopi Gayo Arabika" not in _names(mall.catalogue(mall.CatalogueQuery()))


def test_relevance_pages_cover_every_match_once(ctx):
    shop = make_shop(name="Warung Kopi Sidamanik")
    names = [f"Kopi Bubuk {i}" for i in range(5)] + ["Gula Aren", "Kopi Kopi Kopi Susu"]
    for name in names:
        make_product(shop=shop, name=name, description="kopi" if "Gula" in name else "")
    seen, cursor = [], None
    while True:
        page = mall.catalogue(mall.CatalogueQuery(q="kopi"), cursor, per_page=2)
        seen += _names(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # The shop's name holds "kopi" too, so every product of the shop matches, each once.
    assert sorted(seen) == sorted(names)


def test_a_tampered_cursor_starts_from_the_first_page(goods):
    first = _names(mall.catalogue(mall.CatalogueQuery(sort="newest"), per_page=2))
    for cursor in ("nonsense", "abc~1", "~", "2026-13-45T00:00~x", "1.5~3"):
        assert (
            _names(mall.catalogue(mall.CatalogueQuery(sort="newest"), cursor, per_page=2)) == first
        )
    assert mall.catalogue(mall.CatalogueQuery(sort="price_asc"), "2026-01-01T00:00~3").products
