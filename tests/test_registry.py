"""The agency registry on both databases: aliases, groups, successors."""

from datetime import date

from knowledge.agencies import Registry, agency_key, ensure_agency
from knowledge.db import Database


def test_agency_key_ignores_accents_case_abbreviations_and_province() -> None:
    assert agency_key("Sở KH&CN") == agency_key("so khoa hoc va cong nghe")
    assert agency_key("Sở Nội vụ tỉnh Ninh Thuận") == agency_key("Sở Nội vụ tỉnh")
    assert agency_key("UBND tỉnh") == agency_key("Ủy ban nhân dân tỉnh")
    # "Tỉnh ủy" and "Tỉnh đoàn" are bodies, not a province name to drop.
    assert agency_key("Tỉnh đoàn") != agency_key("Tỉnh ủy")
    assert agency_key("Ban Thường vụ Tỉnh đoàn") != agency_key("Ban Thường vụ Tỉnh ủy")
    assert agency_key("Ban Thường vụ Tỉnh ủy Ninh Thuận") == agency_key("Ban Thường vụ Tỉnh ủy")


async def test_lookup_aliases_groups_and_successors(db: Database) -> None:
    async with db.session() as s:
        reg = await Registry.load(s)
    assert reg.lookup("so tt&tt").name == "Sở Thông tin và Truyền thông"  # type: ignore[union-attr]
    assert reg.lookup("Sở Nội vụ tỉnh Bình Thuận").name == "Sở Nội vụ"  # type: ignore[union-attr]
    tttt = reg.lookup("Sở TT&TT")
    assert tttt is not None
    assert reg.current(tttt.id).name == "Sở Khoa học và Công nghệ"
    assert reg.current(tttt.id, on=date(2020, 8, 25)).name == "Sở Thông tin và Truyền thông"
    group = reg.lookup("các Sở, ban, ngành thuộc tỉnh")
    assert group is not None and group.is_group
    members = {m.name for m in reg.expand(group.id)}
    assert "Sở Nội vụ" in members and "Sở Khoa học và Công nghệ" in members
    assert "Sở Thông tin và Truyền thông" not in members  # merged away
    assert reg.lookup("Bộ Quốc phòng") is None
    assert reg.lookup("Tỉnh đoàn").name == "Tỉnh đoàn"  # type: ignore[union-attr]
    assert reg.lookup("Tỉnh ủy Ninh Thuận").name == "Tỉnh ủy"  # type: ignore[union-attr]


async def test_importer_path_adds_unknown_agency_once(db: Database) -> None:
    async with db.session() as s:
        reg = await Registry.load(s)
        a = await ensure_agency(s, reg, "Báo Ninh Thuận")
        b = await ensure_agency(s, reg, "báo ninh thuan")
        await s.commit()
    assert a.id == b.id
    async with db.session() as s:
        reg2 = await Registry.load(s)
    assert reg2.lookup("BÁO NINH THUẬN") is not None
