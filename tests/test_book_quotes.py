"""The prose's numbers (mmcl_lib.book.quotes): formatted like format(), shown without quotes,
set once, and refused when they cannot be quoted."""

import numpy as np
import pytest

from mmcl_lib.book.quotes import Quoted, Quotes


def test_formats_like_format_and_shows_bare_text():
    prose = Quotes()
    prose.add(acc=np.float64(0.73419), n=np.int64(300), share=0.5, name="CLIP")
    assert prose["acc:.3f"] == "0.734" and repr(prose["acc:.3f"]) == "0.734"
    assert prose["n"] == "300" and prose["n:,"] == "300" and prose["share:.0%"] == "50%"
    assert prose["name"] == "CLIP" and isinstance(prose["acc"], Quoted)
    assert prose.value("n") == 300 and type(prose.value("n")) is int
    assert sorted(prose) == ["acc", "n", "name", "share"] and len(prose) == 4


def test_dict_names_and_keywords_together():
    prose = Quotes()
    prose.add({"ch5_gain": 0.1}, ch5_N=5000)
    assert prose["ch5_gain:.2f"] == "0.10" and prose["ch5_N"] == "5000"


def test_a_name_is_set_once():
    prose = Quotes()
    prose.add(x=1)
    with pytest.raises(ValueError, match="already added"):
        prose.add(x=2)
    assert prose["x"] == "1"


@pytest.mark.parametrize("value", [np.nan, [1, 2], np.array([1.0, 2.0]), None, True])
def test_values_that_cannot_be_quoted(value):
    with pytest.raises(ValueError, match="'x'"):
        Quotes().add(x=value)


def test_bad_names_and_missing_values():
    with pytest.raises(ValueError, match="identifiers"):
        Quotes().add({"ch5-gain": 1})
    with pytest.raises(KeyError, match="above its first use"):
        Quotes()["missing:.3f"]
    prose = Quotes()
    prose.add(x=1.5)
    with pytest.raises(ValueError):
        prose["x:d"]          # a float cannot be shown as an integer: format() says so
