"""The hot paths of issue 8, each as the application's answer (the page, through the
whole Django stack in-process: middleware, scoping, forms, templates) and the
database's own answer (hand-written SQL returning the same rows), timed in the same
run so that their ratio means something even on a busy machine.

`python -m bench.run` (make bench) runs them against the database in DATABASE_URL
(or the SQLite file under MINYI_DATA_DIR) filled by `manage.py generate_load_data`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import NoReverseMatch, reverse

from minyi.cases.models import Case, Channel, Occasion, Outcome
from minyi.cases.states import CaseState
from minyi.duties.models import Attendance
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Representative, Role, User
from minyi.studios.models import Studio


@dataclass
class HotPath:
    name: str
    label: str
    app: Callable[[], Any]  # returns the response
    db: Callable[[], list]  # returns the rows
    app_ids: Callable[[Any], list] | None = None  # ids the page shows, to compare
    db_ids: Callable[[list], list] | None = None
    notes: list[str] = field(default_factory=list)


def sql(query: str, params: list | tuple = ()) -> Callable[[], list]:
    def run() -> list:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    return run


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str) -> Callable[[], Any]:
    def run() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: HTTP {response.status_code}")
        return response

    return run


CASE_LINK = re.compile(rb'href="/cases/(\d+)/"')


def row_ids(response: Any) -> list:
    """The cases a page shows, in order: the links to them (each row links once or
    more; the first occurrence counts)."""
    seen: dict[int, None] = {}
    for match in CASE_LINK.finditer(response.content):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


def first_column(rows: list) -> list:
    return [row[0] for row in rows]


# The case list's own columns and joins (cases/case_list.html with case_related).
CASE_LIST_SQL = """
SELECT c.id, c.number, c.summary, c.state, c.received_on, c.due_on, c.reporter_name_masked,
       c.reporter_phone, c.final_rating, c.hide_identity_from_unit, c.about_unit_id,
       s.name, u.short_name, st.name, h.name, d.name
  FROM cases_case c
  JOIN studios_studio s ON s.id = c.studio_id
  JOIN org_orgunit u ON u.id = s.unit_id
  LEFT JOIN org_orgunit st ON st.id = u.street_id
  LEFT JOIN org_handlingunit h ON h.id = c.handling_unit_id
  LEFT JOIN org_orgdepartment d ON d.id = c.holder_department_id
 WHERE {where}
 ORDER BY c.received_on DESC, c.id DESC
 LIMIT 50
"""


def busiest(level: str) -> OrgUnit:
    """The unit of this level with the most cases: the worst case for its lists."""
    column = level  # the case's own area column (Case.street, Case.district …)
    top = (
        Case.objects.values(column)
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list(column, flat=True)
        .first()
    )
    return OrgUnit.objects.get(pk=top)


def official(unit: OrgUnit, role: str) -> User:
    return User.objects.filter(role=role, unit=unit, is_active=True).order_by("pk").first()


def build(today: date) -> list[HotPath]:
    paths: list[HotPath] = []
    year = today.year - 1

    # 1. A street's case list, filtered by status and date, one page of 50.
    street = busiest(Level.STREET)
    street_user = official(street, Role.STREET_OFFICIAL)
    c = client_for(street_user)
    state = CaseState.CLOSED
    paths.append(
        HotPath(
            "street_case_list",
            f"街道案件列表（{street.name}，状态={state.label}，{year}年，50 条）",
            get(c, f"/cases/?state={state}&year={year}"),
            sql(
                # The year as a range of received_on (the numbering year is its year),
                # which case_street_state_received reads directly.
                CASE_LIST_SQL.format(
                    where="c.street_id = %s AND c.state = %s"
                    " AND c.received_on >= %s AND c.received_on <= %s"
                ),
                [street.pk, str(state), date(year, 1, 1), date(year, 12, 31)],
            ),
            row_ids,
            first_column,
        )
    )

    # 2. A case with its timeline: a routed, rated case of that street.
    case = (
        Case.objects.filter(street=street, state=CaseState.CLOSED, reopen_count=0)
        .exclude(outcome=Outcome.ON_THE_SPOT)
        .order_by("-pk")
        .first()
    )
    assert case is not None, "the busiest street has no closed case: load the data first"
    paths.append(
        HotPath(
            "case_detail",
            f"案件详情及办理过程（{case.number}）",
            get(c, f"/cases/{case.pk}/"),
            sql(
                """
                SELECT c.*, s.name, u.short_name, h.name, d.name
                  FROM cases_case c
                  JOIN studios_studio s ON s.id = c.studio_id
                  JOIN org_orgunit u ON u.id = s.unit_id
                  LEFT JOIN org_handlingunit h ON h.id = c.handling_unit_id
                  LEFT JOIN org_orgdepartment d ON d.id = c.holder_department_id
                 WHERE c.id = %s;
                """,
                [case.pk],
            ),
        )
    )
    paths[-1].db = _both(
        paths[-1].db,
        sql(
            """
            SELECT st.id, st.action, st.at, st.text, st.rating, st.due_on, a.full_name,
                   fd.name, td.name, hu.name
              FROM cases_casestep st
              LEFT JOIN people_user a ON a.id = st.actor_id
              LEFT JOIN org_orgdepartment fd ON fd.id = st.from_department_id
              LEFT JOIN org_orgdepartment td ON td.id = st.to_department_id
              LEFT JOIN org_handlingunit hu ON hu.id = st.to_handling_unit_id
             WHERE st.case_id = %s
             ORDER BY st.at, st.id
            """,
            [case.pk],
        ),
        sql(
            """SELECT an.id, an.text, an.answered_on, an.on_time, hu.name
                 FROM cases_answer an JOIN org_handlingunit hu ON hu.id = an.handling_unit_id
                WHERE an.case_id = %s ORDER BY an.answered_on, an.id""",
            [case.pk],
        ),
        sql(
            """SELECT ev.id, ev.rating, ev.round, ev.rated_at FROM cases_evaluation ev
                WHERE ev.case_id = %s ORDER BY ev.rated_at, ev.id""",
            [case.pk],
        ),
    )

    # 3. A district's overdue list.
    district = busiest(Level.DISTRICT)
    district_user = official(district, Role.DISTRICT_OFFICIAL)
    dc = client_for(district_user)
    paths.append(
        HotPath(
            "district_overdue",
            f"区超期案件（{district.name}）",
            get(dc, "/cases/?overdue=on"),
            sql(
                CASE_LIST_SQL.format(where="c.district_id = %s AND c.state = %s AND c.due_on < %s"),
                [district.pk, str(CaseState.WITH_UNIT), today],
            ),
            row_ids,
            first_column,
        )
    )

    # 4. The city dashboard for a year.
    assert street.city_id is not None  # a street is in a city
    city = OrgUnit.objects.filter(level=Level.CITY, studios__isnull=False).first() or (
        OrgUnit.objects.get(pk=street.city_id)
    )
    city_user = official(OrgUnit.objects.get(pk=street.city_id), Role.CITY_OFFICIAL)
    cc = client_for(city_user)
    try:
        dashboard = reverse("dashboards:overview")
        note = []
    except NoReverseMatch:
        dashboard = "/"
        note = ["看板尚未合入：以首页（各状态案件数）代替。"]
    # The dashboard's period is the reception date (docs/decisions.md); the case's own
    # city column, no join.
    city_where = "c.city_id = %s AND c.received_on >= %s AND c.received_on <= %s"
    city_params = [city.pk, date(year, 1, 1), date(year, 12, 31)]
    if connection.vendor == "postgresql":
        # The database at its best: every chart's counts in one pass (GROUPING SETS),
        # as the page now reads them in one pass (filtered counts).
        city_db = sql(
            f"""SELECT EXTRACT(MONTH FROM c.received_on), c.channel, c.category, c.state,
                       c.final_rating, c.district_id, count(*)
                FROM cases_case c WHERE {city_where}
                GROUP BY GROUPING SETS ((1), (2), (3), (4), (5), (6))""",  # noqa: S608
            city_params,
        )
    else:
        city_db = _both(
            *[
                sql(
                    f"""SELECT {column}, count(*) FROM cases_case c
                       WHERE {city_where} GROUP BY 1 ORDER BY 1""",  # noqa: S608
                    city_params,
                )
                for column in (
                    "strftime('%%m', c.received_on)",
                    "c.channel",
                    "c.category",
                    "c.state",
                    "c.final_rating",
                    "c.district_id",
                )
            ]
        )
    # The compliance chart: the sums of the studios' and their representatives' tallies
    # for the year (kept fresh by the page; the database's answer assumes they are).
    in_city = """SELECT s.id FROM studios_studio s JOIN org_orgunit u ON u.id = s.unit_id
                 WHERE s.closed_at IS NULL AND (u.city_id = %s OR u.id = %s)"""
    compliance_db = _both(
        sql(
            f"""SELECT sum(red), sum(amber), sum(green), sum(not_due) FROM duties_studiotally
                WHERE year = %s AND studio_id IN ({in_city})""",  # noqa: S608
            [year, city.pk, city.pk],
        ),
        sql(
            f"""SELECT sum(t.red), sum(t.amber), sum(t.green), sum(t.not_due)
                FROM duties_representativetally t
                JOIN people_representative r ON r.id = t.representative_id
                WHERE t.year = %s AND r.active AND r.id IN (
                    SELECT representative_id FROM studios_studioassignment
                    WHERE active AND studio_id IN ({in_city}))""",  # noqa: S608
            [year, city.pk, city.pk],
        ),
    )
    paths.append(
        HotPath(
            "city_dashboard",
            f"全市看板（{year}年）",
            get(cc, f"{dashboard}?year={year}"),
            _both(city_db, compliance_db),
            notes=note,
        )
    )

    # 5. A representative's compliance for a year (their duty record).
    rep_id = (
        Attendance.objects.filter(
            representative__assignments__studio__unit__street=street,
            event__starts_at__year=year,
        )
        .values_list("representative_id", flat=True)
        .first()
    )
    assert rep_id is not None, "nobody attended an event in the busiest street that year"
    rep = Representative.objects.get(pk=rep_id)
    paths.append(
        HotPath(
            "representative_compliance",
            f"党代表履职达标（{rep.name}，{year}年）",
            get(c, f"/duties/representatives/{rep.pk}/record/?year={year}"),
            sql(
                """
                SELECT e.id, e.kind, e.starts_at, e.ends_at, e.state, s.name,
                       a.arrived_at, a.left_at
                  FROM duties_event e
                  JOIN duties_event_representatives er ON er.event_id = e.id
                  JOIN studios_studio s ON s.id = e.studio_id
                  LEFT JOIN duties_attendance a
                         ON a.event_id = e.id AND a.representative_id = er.representative_id
                 WHERE er.representative_id = %s AND e.starts_at >= %s AND e.starts_at < %s
                 ORDER BY e.starts_at, e.id
                """,
                [rep.pk, _start(year), _start(year + 1)],
            ),
        )
    )

    # 6. The ledger of a studio for a year.
    studio = (
        Studio.objects.filter(unit__street=street).annotate(n=Count("cases")).order_by("-n").first()
    )
    assert studio is not None, "the busiest street has no studio"
    paths.append(
        HotPath(
            "studio_ledger",
            f"工作室台账（{studio.name}，{year}年）",
            get(
                c,
                f"/cases/ledger/?studio={studio.pk}&date_from={year}-01-01&date_to={year}-12-31",
            ),
            sql(
                """
                SELECT c.id, c.number, c.received_on, c.reporter_name_masked, c.summary, c.state,
                       c.final_rating, c.due_on, h.name
                  FROM cases_case c
                  LEFT JOIN org_handlingunit h ON h.id = c.handling_unit_id
                 WHERE c.studio_id = %s AND c.received_on >= %s AND c.received_on <= %s
                 ORDER BY c.year, c.serial
                 LIMIT 50
                """,
                [studio.pk, date(year, 1, 1), date(year, 12, 31)],
            ),
            row_ids,
            first_column,
            notes=["台账页（每页 50 条，含答复、评议和报送层级）。"],
        )
    )

    # 7. The public page of a studio (minyi.online: the studio, its representatives and
    # its published events of the next four weeks with places left; no login).
    public = Client()
    now = _start(today.year, today.month, today.day)
    paths.append(
        HotPath(
            "public_studio_page",
            f"工作室公开页（{studio.name}）",
            get(public, f"/online/studios/{studio.pk}/"),
            _both(
                sql(
                    """SELECT s.*, u.short_name, st.name, d.name FROM studios_studio s
                         JOIN org_orgunit u ON u.id = s.unit_id
                         LEFT JOIN org_orgunit st ON st.id = u.street_id
                         LEFT JOIN org_orgunit d ON d.id = u.district_id
                        WHERE s.id = %s AND s.closed_at IS NULL""",
                    [studio.pk],
                ),
                sql(
                    """SELECT r.id, r.name, r.position, r.photo FROM people_representative r
                        WHERE r.active AND r.id IN (SELECT representative_id
                              FROM studios_studioassignment WHERE studio_id = %s AND active)
                        ORDER BY r.name, r.id""",
                    [studio.pk],
                ),
                sql(
                    """
                    SELECT e.id, e.kind, e.theme, e.starts_at, e.ends_at, e.place, e.capacity,
                           (SELECT count(*) FROM duties_appointment ap
                             WHERE ap.event_id = e.id
                               AND ap.state IN ('requested', 'confirmed', 'attended'))
                      FROM duties_event e
                     WHERE e.studio_id = %s AND e.state = 'published'
                       AND e.starts_at >= %s AND e.starts_at < %s
                     ORDER BY e.starts_at, e.id
                     LIMIT 50
                    """,
                    [studio.pk, now, now + timedelta(weeks=4)],
                ),
                sql(
                    """SELECT er.event_id, r.name FROM duties_event_representatives er
                         JOIN people_representative r ON r.id = er.representative_id
                         JOIN duties_event e ON e.id = er.event_id
                        WHERE e.studio_id = %s AND e.state = 'published'
                          AND e.starts_at >= %s AND e.starts_at < %s
                        ORDER BY r.name""",
                    [studio.pk, now, now + timedelta(weeks=4)],
                ),
            ),
        )
    )

    # 8. Registering a case: the form posted by the studio's liaison.
    liaison = User.objects.filter(role=Role.LIAISON, liaison__studio=studio).first()
    lc = client_for(liaison)
    representative = studio.representatives.order_by("pk").first()
    assert representative is not None, f"{studio.name} has no representative"
    paths.append(
        HotPath(
            "register_case",
            "登记社情民意（提交登记表）",
            _register(lc, studio, representative, today),
            _register_sql(studio, representative, liaison, today),
        )
    )
    return paths


def _start(year: int, month: int = 1, day: int = 1) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.conf import settings

    return datetime(year, month, day, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _both(*parts: Callable[[], list]) -> Callable[[], list]:
    def run() -> list:
        rows: list = []
        for part in parts:
            rows.extend(part())
        return rows

    return run


def _form(studio: Studio, representative: Representative, today: date) -> dict[str, Any]:
    return {
        "studio": studio.pk,
        "representative": representative.pk,
        "channel": Channel.IN_PERSON,
        "occasion": Occasion.RECEPTION,
        "received_on": today.isoformat(),
        "reporter_name": "测试居民",
        "reporter_gender": "female",
        "reporter_age": "66",
        "reporter_phone": "13800001234",
        "reporter_home_address": "测试小区 1 栋 101",
        "summary": "楼道灯不亮",
        "content": "楼道灯坏了一周，晚上上下楼不安全，请尽快维修。",
        "outcome": Outcome.SENT_ON,
    }


NUMBER = re.compile(r"登记成功，编号：")


def _register(client: Client, studio: Studio, rep: Representative, today: date) -> Callable:
    data = _form(studio, rep, today)

    def run() -> Any:
        response = client.post("/cases/new/", data)
        if response.status_code != 302:
            errors = response.context["form"].errors if response.context else ""
            raise AssertionError(f"registration: HTTP {response.status_code} {errors}")
        return response

    return run


def _register_sql(studio: Studio, rep: Representative, actor: User, today: date) -> Callable:
    """The same registration as the database alone would do it: lock and bump the
    counter, insert the case and its first timeline step, commit. Values that a field
    transforms (an encrypted phone) are prepared through the field once, beforehand."""
    from django.db import transaction
    from django.utils import timezone

    from minyi.cases.models import CaseNumberCounter, CaseStep
    from minyi.cases.numbering import number_prefix

    prefix = number_prefix(studio)
    fields = {f.attname: f for f in Case._meta.concrete_fields}
    prep = {
        name: fields[name].get_db_prep_save(value, connection)
        for name, value in {
            "reporter_phone": "+8613800001234",
            "reporter_home_address": "测试小区 1 栋 101",
            "reporter_name": "测试居民",
        }.items()
    }
    counter = CaseNumberCounter._meta.db_table
    cases = Case._meta.db_table
    steps = CaseStep._meta.db_table
    omitted = {"id", "number", "number_prefix", "year", "serial", *prep}
    others = {
        "studio_id": studio.pk,
        "representative_id": rep.pk,
        "registered_by_id": actor.pk,
        "state": CaseState.REGISTERED,
        "channel": Channel.IN_PERSON,
        "occasion": Occasion.RECEPTION,
        "outcome": Outcome.SENT_ON,
        "received_on": today,
        "summary": "楼道灯不亮",
        "content": "楼道灯坏了一周，晚上上下楼不安全，请尽快维修。",
        "representative_name": rep.name,
        "reporter_gender": "female",
        "reporter_age": 66,
    }
    columns = [f.attname for f in Case._meta.concrete_fields if f.attname not in omitted]

    def default(name: str) -> Any:
        if name in others:
            return fields[name].get_db_prep_save(others[name], connection)
        if name in ("created_at", "updated_at"):
            return None  # filled per call
        return fields[name].get_db_prep_save(fields[name].get_default(), connection)

    base = {name: default(name) for name in columns}
    all_columns = ["number", "number_prefix", "year", "serial", *prep, *columns]
    insert = (
        f"INSERT INTO {cases} ({', '.join(all_columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(all_columns))})"
    )
    lock = "FOR UPDATE" if connection.vendor == "postgresql" else ""

    def run() -> list:
        now = fields["created_at"].get_db_prep_save(timezone.now(), connection)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, last_serial FROM {counter} WHERE prefix = %s AND year = %s {lock}",  # noqa: S608
                [prefix, today.year],
            )
            found = cursor.fetchone()
            if found is None:
                cursor.execute(
                    f"INSERT INTO {counter} (prefix, year, last_serial) VALUES (%s, %s, 0)",  # noqa: S608
                    [prefix, today.year],
                )
                cursor.execute(
                    f"SELECT id, last_serial FROM {counter} WHERE prefix = %s AND year = %s",  # noqa: S608
                    [prefix, today.year],
                )
                found = cursor.fetchone()
            serial = found[1] + 1
            cursor.execute(
                f"UPDATE {counter} SET last_serial = %s WHERE id = %s",  # noqa: S608
                [serial, found[0]],
            )
            values = {**base, "created_at": now, "updated_at": now}
            cursor.execute(
                insert,
                [f"{prefix}{today.year}{serial:03d}", prefix, today.year, serial, *prep.values()]
                + [values[name] for name in columns],
            )
            cursor.execute(
                f"SELECT id FROM {cases} WHERE number_prefix = %s AND year = %s AND serial = %s",  # noqa: S608
                [prefix, today.year, serial],
            )
            case_id = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {steps} (case_id, action, at, actor_id, state_before, state_after, "  # noqa: S608
                "to_level, text, rating) VALUES (%s, 'register', %s, %s, 'registered', "
                "'registered', '', %s, '')",
                [case_id, now, actor.pk, "楼道灯不亮"],
            )
        return [case_id]

    return run
