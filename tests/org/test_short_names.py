"""The name people use for a community, derived from its committee's official name."""

import pytest

from minyi.org.importing import short_name_of


@pytest.mark.parametrize(
    ("official", "short"),
    [
        ("沙头角居委会", "沙头角社区"),
        ("大塘龙社区居民委员会", "大塘龙社区"),
        ("多福巷社区居委会", "多福巷社区"),
        ("新湖居民委员会", "新湖社区"),
        ("顾册村委会", "顾册村"),
        ("王家村民委员会", "王家村"),
        ("北坞村村民委员会", "北坞村"),
        ("东坟村村委会", "东坟村"),
        ("黄麻布社区居委", "黄麻布社区"),
        ("阿拉坦嘎查村民委员会", "阿拉坦嘎查"),
        ("坂田社区坂田围居委会", "坂田社区坂田围"),
        ("象角塘社区", "象角塘社区"),
        ("阿拉坦额莫勒嘎查", "阿拉坦额莫勒嘎查"),
        ("福田保税区虚拟社区", "福田保税区虚拟社区"),
        ("  沙头角居委会 ", "沙头角社区"),
        ("居委会", "居委会"),
    ],
)
def test_it_derives_community_short_names(official: str, short: str) -> None:
    assert short_name_of(official) == short
