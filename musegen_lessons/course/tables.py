"""Tables as tables: rows of results shown as an HTML table in JupyterLab and on the website, and as aligned text
in a terminal, through pandas.

A lesson used to print its tables with hand-set column widths (`f"{name:<18}{nll:>8.3f}"`): they broke when a name
grew and ran wider than the website's column. `show_table(rows, formats={"NLL": "{:.3f}"})` lets pandas lay them
out; the figures are formatted once, by column, and the website's stylesheet keeps the table inside its column.

Lesson: 01_representation (the first table; every lesson after it)
"""

import numbers

import pandas as pd
from IPython.display import display

from musegen_lessons.errors import MuseGenError

# The class the website's stylesheet (book/_static/tables.css) gives a scroll bar instead of a wider page.
TABLE_CLASS = "musegen-table"


class Table:
    """A table ready to show: HTML for JupyterLab and the website, aligned text anywhere else.

    Attributes:
        frame: the rows as a pandas DataFrame, unformatted, for a student who wants to sort or plot them.
    """

    def __init__(self, frame, formats, caption):
        self.frame = frame
        self._formats = formats
        self._caption = caption

    def _cells(self):
        """Every value as the text it is shown as, column by column."""

        def show(column, value):
            spec = self._formats.get(column)
            if _missing(value) or spec is None:
                return _plain(value)
            return spec(value) if callable(spec) else spec.format(value)

        return {column: [show(column, v) for v in self.frame[column]] for column in self.frame.columns}

    def _text_columns(self):
        return [c for c in self.frame.columns if not _numeric(self.frame[c])]

    def _repr_html_(self):
        shown = pd.DataFrame(self._cells(), columns=self.frame.columns)
        styler = shown.style.hide(axis="index").set_table_attributes(f'class="{TABLE_CLASS}"')
        styler = styler.set_properties(subset=self._text_columns(), **{"text-align": "left"})
        if self._caption:
            styler = styler.set_caption(self._caption)
        return styler.to_html()

    def __repr__(self):
        cells, text_columns = self._cells(), self._text_columns()
        lines = []
        for column, values in cells.items():
            width = max(len(str(column)), *(len(v) for v in values))
            align = str.ljust if column in text_columns else str.rjust
            lines.append([align(str(column), width)] + [align(v, width) for v in values])
        text = "\n".join("  ".join(row).rstrip() for row in zip(*lines))
        return f"{self._caption}\n{text}" if self._caption else text


def _missing(value):
    return value is None or (isinstance(value, float) and value != value)


def _plain(value):
    return "—" if _missing(value) else str(value)


def _numeric(series):
    return all(isinstance(v, numbers.Number) and not isinstance(v, bool) for v in series if not _missing(v))


def make_table(rows, columns=None, *, formats=None, caption=None):
    """Rows as a `Table`, without showing it.

    Args:
        rows: a list of dicts (one per row, keys are the columns), or a list of sequences with `columns`.
        columns: the column names, in order; with dicts, the columns to keep and their order.
        formats: a format string (`"{:.3f}"`) or a function per column name; other columns are shown as they are.
            A missing value (None or NaN) is shown as a dash.
        caption: a line shown above the table.

    Raises:
        MuseGenError: no rows, a row of another length than `columns`, or a format for a column that is not there.

    >>> rows = [{"model": "5-gram", "NLL": 0.71234}, {"model": "LSTM", "NLL": 0.6}]
    >>> print(make_table(rows, formats={"NLL": "{:.3f}"}))
    model     NLL
    5-gram  0.712
    LSTM    0.600
    """
    rows = list(rows)
    if not rows:
        raise MuseGenError("There are no rows to show: the table would be empty.")
    if isinstance(rows[0], dict):
        columns = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
        frame = pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns, dtype=object)
    else:
        if columns is None:
            raise MuseGenError("Rows given as sequences need their column names: make_table(rows, columns=[...]).")
        columns = list(columns)
        lengths = sorted({len(row) for row in rows} - {len(columns)})
        if lengths:
            raise MuseGenError(f"There are {len(columns)} columns but a row of {lengths[0]} values.")
        frame = pd.DataFrame([list(row) for row in rows], columns=columns, dtype=object)
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(columns))
    if unknown:
        raise MuseGenError(f"There is a format for {unknown[0]!r}, which is not a column: the columns are {columns}.")
    return Table(frame, formats, caption)


def show_table(rows, columns=None, *, formats=None, caption=None):
    """Show rows as a table (see `make_table` for the arguments): HTML in JupyterLab and on the website, aligned text
    in a terminal."""
    display(make_table(rows, columns, formats=formats, caption=caption))
