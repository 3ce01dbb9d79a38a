"""Tables as tables (musegen_lessons.course.tables): figures formatted by column, text left and figures right, HTML
with the class the website's stylesheet keeps inside its column, and a clear error for a table that cannot be."""

import math

import pytest

from musegen_lessons.course.tables import TABLE_CLASS, make_table
from musegen_lessons.errors import MuseGenError

ROWS = [
    {"model": "5-gram", "NLL": 0.71234, "parameters": 31_000},
    {"model": "LSTM, 4 epochs", "NLL": 0.6, "parameters": 129_024},
    {"model": "the Transformer", "NLL": math.nan, "parameters": None},
]


def test_figures_are_formatted_by_column_and_aligned_as_text():
    table = make_table(ROWS, formats={"NLL": "{:.3f}", "parameters": "{:,}"}, caption="Held-out NLL")
    assert str(table).splitlines() == [
        "Held-out NLL",
        "model              NLL  parameters",
        "5-gram           0.712      31,000",
        "LSTM, 4 epochs   0.600     129,024",
        "the Transformer      —           —",
    ]


def test_the_html_has_the_class_the_website_styles_and_every_formatted_cell():
    html = make_table(ROWS, formats={"NLL": lambda v: f"{v:.2f} nats"})._repr_html_()
    assert f'class="{TABLE_CLASS}"' in html
    assert all(cell in html for cell in ("0.71 nats", "0.60 nats", "LSTM, 4 epochs", "129024", "—"))
    assert "0.71234" not in html  # a format given is the only way a figure is shown


def test_rows_as_sequences_need_and_match_their_columns():
    assert str(make_table([("a", 1), ("bb", 22)], columns=["name", "n"])).splitlines() == [
        "name   n",
        "a      1",
        "bb    22",
    ]
    with pytest.raises(MuseGenError, match="column names"):
        make_table([("a", 1)])
    with pytest.raises(MuseGenError, match="2 columns but a row of 3"):
        make_table([("a", 1), ("b", 2, 3)], columns=["name", "n"])


def test_an_empty_table_or_a_format_for_no_column_is_refused():
    with pytest.raises(MuseGenError, match="no rows"):
        make_table([])
    with pytest.raises(MuseGenError, match="'nll', which is not a column"):
        make_table(ROWS, formats={"nll": "{:.3f}"})


def test_the_columns_argument_chooses_and_orders_the_columns_of_dicts():
    table = make_table(ROWS, columns=["NLL", "model"], formats={"NLL": "{:.1f}"})
    assert list(table.frame.columns) == ["NLL", "model"]
    assert str(table).splitlines()[1] == "0.7  5-gram"
