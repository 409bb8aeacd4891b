"""lmf.core.registry: names to builders, defaults filled in, unknown names and keywords refused with
the valid ones listed, and the listing ``lmf list`` prints."""

from __future__ import annotations

import pytest

from lmf.core.errors import ConfigError
from lmf.core.registry import Registry, format_rows


def _widgets() -> Registry:
    """Two entries, one by decorator and one by call; builders return what they were given."""
    widgets = Registry("widget")

    @widgets.register("gear", doc="a toothed wheel", defaults={"teeth": 12, "metal": "steel"},
                      info="round")
    def gear(size, *, teeth, metal):
        return {"size": size, "teeth": teeth, "metal": metal}

    widgets.register("axle", lambda size: {"size": size}, doc="a rod")
    return widgets


def test_the_decorator_returns_the_function_unchanged():
    widgets = Registry("widget")

    def spring(size):
        return size

    assert widgets.register("spring", doc="coiled")(spring) is spring
    assert widgets.register("coil", spring, doc="coiled") is spring
    assert widgets.entry("spring").builder is spring


def test_names_keep_the_registration_order():
    assert _widgets().names() == ("gear", "axle")


def test_build_fills_in_the_defaults_and_keeps_what_is_given():
    widgets = _widgets()
    assert widgets.build("gear", 3) == {"size": 3, "teeth": 12, "metal": "steel"}
    assert widgets.build("gear", 3, metal="brass") == {"size": 3, "teeth": 12, "metal": "brass"}
    assert widgets.build("axle", 5) == {"size": 5}
    assert widgets.params("gear", {"teeth": 8}) == {"teeth": 8, "metal": "steel"}


def test_defaults_and_info_of_an_entry():
    widgets = _widgets()
    assert widgets.defaults("gear") == {"teeth": 12, "metal": "steel"}
    assert widgets.defaults("axle") == {}
    widgets.defaults("gear")["teeth"] = 99  # a copy: the registry keeps its own
    assert widgets.build("gear", 1)["teeth"] == 12
    assert widgets.entry("gear").info == "round"
    assert widgets.entry("axle").info is None


@pytest.mark.parametrize("name", ["cog", "", None, 3, ["gear"]])
def test_an_unknown_name_lists_the_registered_ones(name):
    widgets = _widgets()
    for call in (lambda: widgets.build(name, 1), lambda: widgets.defaults(name),
                 lambda: widgets.params(name, {})):
        with pytest.raises(ConfigError) as error:
            call()
        assert str(error.value) == f"unknown widget {name!r}; valid choices: axle, gear"
        assert isinstance(error.value, ValueError)


def test_an_unknown_keyword_lists_the_accepted_ones():
    widgets = _widgets()
    with pytest.raises(ConfigError) as error:
        widgets.build("gear", 1, teeth=3, tooth=3, colour="red")
    assert str(error.value) == (
        "widget 'gear' takes no parameter 'colour', 'tooth'; valid parameters: teeth, metal")
    with pytest.raises(ConfigError) as error:
        widgets.params("axle", {"teeth": 3})
    assert str(error.value) == "widget 'axle' takes no parameter 'teeth'; valid parameters: none"


def test_a_refusal_of_the_builder_names_the_entry_and_other_errors_pass_unchanged():
    widgets = Registry("widget")

    @widgets.register("gear", doc="a toothed wheel", defaults={"teeth": 12})
    def gear(*, teeth):
        if teeth < 1:
            raise ConfigError("teeth must be at least 1")
        return 1 / (teeth - 1)

    with pytest.raises(ConfigError) as error:
        widgets.build("gear", teeth=0)
    assert str(error.value) == "widget 'gear': teeth must be at least 1"
    with pytest.raises(ZeroDivisionError):
        widgets.build("gear", teeth=1)


def test_a_name_registered_twice_is_refused():
    widgets = _widgets()
    with pytest.raises(ValueError, match="widget 'gear' is registered already"):
        widgets.register("gear", lambda size: size, doc="again")


def test_rows_and_describe_list_name_defaults_and_doc():
    widgets = _widgets()
    assert widgets.rows() == [("gear", "teeth=12, metal='steel'", "a toothed wheel"),
                              ("axle", "—", "a rod")]
    assert widgets.describe().splitlines() == [
        "name  parameters (defaults)    what it is",
        "gear  teeth=12, metal='steel'  a toothed wheel",
        "axle  —                        a rod",
    ]
    assert format_rows([]) == "name  parameters (defaults)  what it is"
