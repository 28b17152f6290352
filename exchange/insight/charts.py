"""The dashboard's charts: each one's title, description, data (a function of
`exchange.insight.services`), table columns (the same for the page's table and the CSV) and
SVG, drawn on the server by pygal in the reader's language.

The SVG holds no script (pygal's configuration script is taken out) and links to nothing: the
app works offline. It carries a <title> and a <desc>; the page shows it as an image with the
same text as its alternative, beside a real table of the same rows.
"""

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import pygal
from flask_babel import format_date, format_datetime, format_decimal, format_percent
from flask_babel import lazy_gettext as _l
from pygal.etree import etree
from pygal.style import Style
from pygal_maps_world.maps import World

from exchange.authorities.models import SIDE_LABELS
from exchange.i18n import current_language
from exchange.insight import services
from exchange.insight.services import InsightFilters
from exchange.reference.countries import (
    EU_MEMBER_STATES,
    LATIN_AMERICA_AND_CARIBBEAN,
    Side,
    country_name,
)
from exchange.workflow import KIND_LABELS, STATE_LABELS, Kind, State

# pygal puts a finder of the old kind on sys.meta_path (for `import pygal.maps.<plugin>`, which
# this app does not use); every later search for a module that is not installed then warns
# (ImportWarning: find_spec() not found), and tests turn warnings into errors.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

WIDTH, HEIGHT = 800, 420

# Okabe and Ito's palette, told apart by people with any common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW, GREY = "#56B4E9", "#CC79A7", "#F0E442", "#6C757D"
STATE_COLOURS = {
    State.DRAFT: "#ADB5BD",
    State.SUBMITTED: SKY,
    State.IN_REVIEW: BLUE,
    State.CHANGES_REQUESTED: ORANGE,
    State.PUBLISHED: GREEN,
    State.REJECTED: VERMILLION,
    State.ARCHIVED: GREY,
    State.CLOSED: PURPLE,
}
SIDE_COLOURS = {Side.EU: BLUE, Side.LAC: ORANGE}
DELIVERY_COLOURS = {
    "sent": GREEN,
    "failed": VERMILLION,
    "pending": YELLOW,
    "sending": SKY,
    "skipped": "#ADB5BD",
}
FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def _style(colours) -> Style:
    return Style(
        background="white",
        plot_background="white",
        foreground="#212529",
        foreground_strong="#212529",
        foreground_subtle="#495057",
        font_family=FONTS,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=13,
        tooltip_font_size=13,
        no_data_font_size=20,
        opacity="1",
        opacity_hover="1",
        colors=tuple(colours) or (BLUE,),
    )


def _integer(value) -> str:
    return format_decimal(value or 0, format="#,##0")


def _percent(value: float | None) -> str:
    return format_percent(value, format="#,##0 %") if value is not None else "—"


def month_label(month: str) -> str:
    """ "2026-11" as "Nov 2026" in the reader's language."""
    return format_date(date(int(month[:4]), int(month[5:]), 1), "MMM y")


def _chart(kind, colours=(), **options):
    settings = {
        "width": WIDTH,
        "height": HEIGHT,
        "style": _style(colours),
        "js": [],
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "value_formatter": _integer,
        "no_data_text": str(_l("Nothing for these filters")),
        "truncate_legend": 40,
        "truncate_label": 40,
        # Values at the end of their bar, in the text's colour (inside, they would vanish on
        # dark bars).
        "print_values_position": "top",
    }
    return kind(**{**settings, **options})


def _counts_axis(chart, highest: int) -> None:
    """Whole numbers on the axis of counts (pygal would put 0.5 steps on a small scale), about
    eight of them. Without any series pygal draws its "nothing" text, and no axis."""
    if not chart.raw_series:
        return
    step = max(1, math.ceil(highest / 8))
    chart.y_labels = list(range(0, max(highest, 1) + step, step))


def _accessible(title: str, description: str):
    """A pygal XML filter: the chart's <title> and <desc>, and no script at all (pygal's
    configuration script is for its tooltips, which need its JavaScript)."""

    def apply(root):
        for defs in root.iter("defs"):
            for script in list(defs.iter("script")):
                defs.remove(script)
        heading = root.find("title")
        heading.text = title
        desc = etree.Element("desc")
        desc.text = description
        root.insert(list(root).index(heading) + 1, desc)
        root.set("role", "img")
        root.set("lang", current_language())
        return root

    return apply


def _render(chart, title: str, description: str) -> str:
    chart.add_xml_filter(_accessible(title, description))
    return chart.render(is_unicode=True)


# The charts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: Any  # lazily translated
    value: Callable[[Any], Any]  # the row's raw value (what the CSV holds)
    display: Callable[[Any], str] | None = None  # for the page's table (None: as it is)
    numeric: bool = False

    def shown(self, row) -> str:
        value = self.value(row)
        if self.display is not None:
            return self.display(value)
        if self.numeric:
            return _integer(value)
        return "" if value is None else str(value)


@dataclass(frozen=True)
class Chart:
    key: str
    title: Any
    description: Any
    data: Callable[[InsightFilters, datetime | None], list]
    columns: tuple[Column, ...]
    draw: Callable[[list, InsightFilters, date], Any]  # a pygal chart, not rendered yet

    def svg(self, rows: list, filters: InsightFilters, today: date) -> str:
        return _render(self.draw(rows, filters, today), str(self.title), str(self.description))


# Practices and ideas per month


def _draw_submissions(rows, filters, today):
    months = services.month_range(filters, rows, today)
    series = sorted(
        {(row.kind, row.state) for row in rows},
        key=lambda pair: (list(Kind).index(pair[0]), list(State).index(pair[1])),
    )
    # Ideas in the same colour as practices of the same state, lighter (stacked above them).
    colours = [
        STATE_COLOURS[state] if kind == Kind.PRACTICE else _lighter(STATE_COLOURS[state])
        for kind, state in series
    ]
    chart = _chart(
        pygal.StackedBar,
        colours,
        x_label_rotation=-40 if len(months) > 6 else 0,
        x_labels_major_every=max(1, len(months) // 12) if len(months) > 12 else None,
        show_minor_x_labels=len(months) <= 12,
        y_title=str(_l("Practices and ideas")),
        legend_at_bottom_columns=2,
        height=HEIGHT + 14 * ((len(series) + 1) // 2),  # room for the legend
    )
    chart.x_labels = [month_label(m) for m in months]
    counts = {(row.month, row.kind, row.state): row.count for row in rows}
    totals = dict.fromkeys(months, 0)
    for row in rows:
        totals[row.month] = totals.get(row.month, 0) + row.count
    for kind, state in series:
        chart.add(
            f"{KIND_LABELS[kind]}: {STATE_LABELS[state]}",
            [counts.get((m, kind, state)) for m in months],
        )
    _counts_axis(chart, max(totals.values(), default=0))
    return chart


def _lighter(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * 0.55):02x}" for c in (red, green, blue))


# The review queue


def _draw_queue(rows, filters, today):
    chart = _chart(pygal.Bar, [BLUE], show_legend=False, print_values=True)
    chart.x_labels = [row.label for row in rows]
    chart.x_title = str(_l("Days waiting"))
    chart.y_title = str(_l("Items"))
    chart.add(str(_l("Items waiting")), [row.count for row in rows])
    _counts_axis(chart, max((row.count for row in rows), default=0))
    return chart


# The map


@cache
def cooperation_map() -> str:
    """pygal_maps_world's world map with the countries that can take part only (the EU's
    member states, Latin America and the Caribbean), framed on them: a fifth of the size."""
    taking_part = {code.lower() for code in EU_MEMBER_STATES | LATIN_AMERICA_AND_CARIBBEAN}
    root = etree.fromstring(World.svg_map.encode())
    for child in list(root):
        if _local_name(child.tag) == "metadata":
            root.remove(child)
    countries = next(
        g for g in root.iter() if _local_name(g.tag) == "g" and g.get("id") == "countries"
    )
    for group in list(countries):
        if (group.get("class") or "").split(" ")[0] not in taking_part:
            countries.remove(group)
    # From Mexico's Pacific coast to Cyprus, and from Finland to Tierra del Fuego.
    root.set("viewBox", "415 165 1100 1075")
    for attribute in ("width", "height"):
        root.attrib.pop(attribute, None)
    return etree.tostring(root, encoding="unicode")


def _local_name(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class CooperationMap(World):
    """A map of the countries of the cooperation, named in the reader's language."""

    @property
    def svg_map(self) -> str:
        return cooperation_map()


def _draw_map(rows, filters, today):
    sides = [side for side in Side if filters.side in (None, side)]
    chart = _chart(CooperationMap, [SIDE_COLOURS[s] for s in sides], height=640)
    chart.area_names = {
        code.lower(): country_name(code) for code in EU_MEMBER_STATES | LATIN_AMERICA_AND_CARIBBEAN
    }
    for side in sides:
        chart.add(
            str(SIDE_LABELS[side]),
            {row.country_code.lower(): row.count for row in rows if row.side == side},
        )
    return chart


# Practices by theme and by objective


def _horizontal(labels: list[str], values: list[int], colour: str, title: str):
    chart = _chart(
        pygal.HorizontalBar,
        [colour],
        show_legend=False,
        print_values=True,
        print_zeroes=False,
        height=max(HEIGHT, 60 + 22 * len(labels)),
        margin_left=10,
    )
    # pygal draws the first label at the bottom: reversed, the list reads from the top.
    chart.x_labels = list(reversed(labels))
    chart.add(title, list(reversed(values)))
    _counts_axis(chart, max(values, default=0))
    return chart


def _draw_themes(rows, filters, today):
    return _horizontal(
        [row.label for row in rows], [row.count for row in rows], GREEN, str(_l("Practices"))
    )


def _draw_objectives(rows, filters, today):
    return _horizontal(
        [row.code for row in rows], [row.count for row in rows], PURPLE, str(_l("Practices"))
    )


# The match funnel


def _draw_funnel(rows, filters, today):
    chart = _chart(
        pygal.HorizontalBar, [BLUE], show_legend=False, print_values=True, print_zeroes=True
    )
    # Each step says what share of the previous one reached it.
    chart.x_labels = [
        f"{row.label} ({_percent(row.from_previous)})" if index else row.label
        for index, row in reversed(list(enumerate(rows)))
    ]
    chart.add(str(_l("Pairs")), [row.count for row in reversed(rows)])
    _counts_axis(chart, max((row.count for row in rows), default=0))
    return chart


# E-mail delivery


def _draw_delivery(rows, filters, today):
    statuses = services.DELIVERY_STATUSES
    chart = _chart(
        pygal.HorizontalStackedBar,
        [DELIVERY_COLOURS[s.value] for s in statuses],
        height=max(HEIGHT, 120 + 26 * len(rows)),
        legend_at_bottom_columns=3,
    )
    chart.x_labels = [row.label for row in reversed(rows)]
    for status in statuses if rows else ():
        chart.add(
            services.status_label(status),
            [row.by_status(status) or None for row in reversed(rows)],
        )
    _counts_axis(chart, max((row.total for row in rows), default=0))
    return chart


def _date_time(value: datetime | None) -> str:
    return format_datetime(value, "short") if value is not None else "—"


def _no_data(value) -> str:
    return "—" if value is None else _integer(value)


CHARTS: dict[str, Chart] = {
    chart.key: chart
    for chart in (
        Chart(
            key="submissions",
            title=_l("Practices and ideas created per month"),
            description=_l(
                "Good practices and project ideas created in the period, per month of creation, "
                "by type and by the state they are in now."
            ),
            data=lambda filters, now: services.submissions_by_month(filters),
            columns=(
                Column(_l("Month"), lambda r: r.month, month_label),
                Column(_l("Type"), lambda r: str(KIND_LABELS[r.kind])),
                Column(_l("State"), lambda r: str(STATE_LABELS[r.state])),
                Column(_l("Items"), lambda r: r.count, numeric=True),
            ),
            draw=_draw_submissions,
        ),
        Chart(
            key="queue",
            title=_l("How long the review queue has been waiting"),
            description=_l(
                "Practices and ideas waiting for a coordinator (submitted or in review) that "
                "entered the queue in the period, by days waiting."
            ),
            data=lambda filters, now: services.queue_age(filters, now),
            columns=(
                Column(_l("Waiting"), lambda r: r.label),
                Column(_l("At least (days)"), lambda r: r.low, _no_data),
                Column(_l("Fewer than (days)"), lambda r: r.high, _no_data),
                Column(_l("Items"), lambda r: r.count, numeric=True),
            ),
            draw=_draw_queue,
        ),
        Chart(
            key="authorities",
            title=_l("Authorities by country and side"),
            description=_l(
                "Verified authorities, verified in the period, per country: the darker the "
                "colour, the more authorities. The map shows the countries that can take part."
            ),
            data=lambda filters, now: services.authorities_by_country(filters),
            columns=(
                Column(_l("Country"), lambda r: r.country),
                Column(_l("Country code"), lambda r: r.country_code),
                Column(_l("Side"), lambda r: str(SIDE_LABELS[r.side])),
                Column(_l("Authorities"), lambda r: r.count, numeric=True),
            ),
            draw=_draw_map,
        ),
        Chart(
            key="themes",
            title=_l("Practices by theme"),
            description=_l(
                "Public good practices first published in the period, per theme of their "
                "published text; a practice counts once in each of its themes."
            ),
            data=lambda filters, now: services.practices_by_theme(filters),
            columns=(
                Column(_l("Theme"), lambda r: r.label),
                Column(_l("Code"), lambda r: r.code),
                Column(_l("Practices"), lambda r: r.count, numeric=True),
            ),
            draw=_draw_themes,
        ),
        Chart(
            key="objectives",
            title=_l("Practices by programme objective"),
            description=_l(
                "Public good practices first published in the period, per programme objective "
                "of their published text; a practice counts once in each of its objectives."
            ),
            data=lambda filters, now: services.practices_by_objective(filters),
            columns=(
                Column(_l("Objective"), lambda r: r.code),
                Column(_l("Programme"), lambda r: r.programme),
                Column(_l("Text"), lambda r: r.text),
                Column(_l("Practices"), lambda r: r.count, numeric=True),
            ),
            draw=_draw_objectives,
        ),
        Chart(
            key="funnel",
            title=_l("The match funnel"),
            description=_l(
                "Pairs of authorities that entered the brokerage in the period (proposed by the "
                "engine or matched by hand) and how far they went, with the share of the "
                "previous step and of the first one that reached each step."
            ),
            data=lambda filters, now: services.match_funnel(filters),
            columns=(
                Column(_l("Step"), lambda r: r.label),
                Column(_l("Pairs"), lambda r: r.count, numeric=True),
                Column(_l("Of the previous step"), lambda r: _rate(r.from_previous), _percent),
                Column(_l("Of those proposed"), lambda r: _rate(r.from_start), _percent),
            ),
            draw=_draw_funnel,
        ),
        Chart(
            key="email",
            title=_l("E-mail delivery"),
            description=_l(
                "Notifications written in the period, per kind and status; the failure rate "
                "counts the failed ones among those sent or failed."
            ),
            data=lambda filters, now: services.email_delivery(filters, now),
            columns=(
                Column(_l("Kind"), lambda r: r.label),
                Column(_l("Code"), lambda r: r.kind),
                *(
                    Column(
                        services.STATUS_LABELS[status],
                        lambda r, status=status: r.by_status(status),
                        numeric=True,
                    )
                    for status in services.DELIVERY_STATUSES
                ),
                Column(_l("Total"), lambda r: r.total, numeric=True),
                Column(_l("Failure rate"), lambda r: _rate(r.failure_rate), _percent),
                Column(_l("Oldest waiting since"), lambda r: r.oldest_waiting, _date_time),
                Column(_l("Days waiting"), lambda r: r.oldest_waiting_days, _no_data),
            ),
            draw=_draw_delivery,
        ),
    )
}


def _rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
