"""Forms of the case pages: the registration form (CM 9 and the annex notes), the
filters of the list and the ledger, and one small form per workflow step. Every step
form carries the case's `version`, so a step taken on a stale page is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.safestring import SafeString

from minyi.cases import choice_cache, form_rows
from minyi.cases.attachments import ALLOWED_LABEL, check_upload
from minyi.cases.models import Case, Channel, Occasion, Outcome, Satisfaction, StudioCategory
from minyi.cases.states import CaseState, HolderLevel
from minyi.cases.summary import DUE_SOON_WORKDAYS, UNIT_WORK, unit_of
from minyi.core.forms import FilterForm, ScopedModelForm, field_of, label_choices
from minyi.core.once import OnceOnlyFormMixin
from minyi.core.phones import normalize_phone
from minyi.core.regulations import cite
from minyi.core.text_limits import ACCOUNT_MAX, DOCUMENT_MAX, NOTE_MAX
from minyi.core.widgets import FAST_RENDERER, DayInput, SuggestingSearchInput, Textarea
from minyi.org.models import ANCESTOR_LEVELS, HandlingUnit, OrgUnit
from minyi.people.models import Representative, Role
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio, StudioAssignment

AGE_MESSAGE = "年龄应在 1 到 120 岁之间，请核对。"
DATE_WIDGET = {"type": "date"}


def registrable_studios(user: Any) -> QuerySet:
    """Studios where this user may register opinions: a liaison's and a representative's
    own studios, an official's studios in scope. Handling units register nothing."""
    if not (
        user.is_superuser
        or getattr(user, "is_official", False)
        or user.role in {Role.LIAISON, Role.REPRESENTATIVE}
    ):
        return Studio.objects.none()
    return (
        Studio.objects.for_user(user)
        .active()
        .select_related("unit", "unit__street")
        .order_by("unit__code", "name")
    )


def registration_gate(user: Any) -> str:
    """What registrable_studios asks of the account besides its scope: part of the key
    of whatever is kept per scope about registering (choice_cache)."""
    official = int(bool(getattr(user, "is_official", False)))
    return f"{user.role}:{int(user.is_superuser)}:{official}"


def may_register(user: Any) -> bool:
    """Whether the list offers 登记社情民意: registrable_studios(user).exists(), kept with
    the scope's choices (a studio opened or closed bumps them) instead of a query on
    every view of the list. The registration form and its POST check afresh."""
    return choice_cache.cached(
        scope_of(user), _may_register_what(user), lambda: registrable_studios(user).exists()
    )


def _may_register_what(user: Any) -> str:
    return f"may-register:{registration_gate(user)}"


def prefetch_list_choices(user: Any) -> None:
    """The case list reads its filters' choices, may_register and the working-day
    calendar (its rows' 即将到期, summary.due_soon_until): one round trip."""
    from minyi.cases.services import today
    from minyi.workdays.cache import keys_around

    choice_cache.prefetch(
        scope_of(user), [_FILTERS_WHAT, _may_register_what(user)], also=keys_around(today())
    )


# A registrable studio's row: its pk, unit and areas (the units around it), name and street
# name (its label).
STUDIO_COLUMNS = (
    "pk",
    "unit_id",
    "unit__street_id",
    "unit__district_id",
    "unit__city_id",
    "name",
    "unit__street__name",
)


def _studio_label(studio: Studio) -> str:
    street = studio.unit.street.name if studio.unit.street_id and studio.unit.street else ""
    return f"{street} {studio.name}".strip()


def _rep_label(rep: Representative) -> str:
    return f"{rep.name}（{rep.position}）" if rep.position else rep.name


class DeferredChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose queryset may be given as a function (`defer_queryset`),
    built when first read (by cleaning, or by Django's own choices), not when the form
    is made: a blank registration form takes its options from choice_cache and never
    reads its scoped querysets, whose building (a dozen ORM filters with subqueries)
    was a good part of its time."""

    _make_queryset: Callable[[], QuerySet] | None = None

    def defer_queryset(self, make: Callable[[], QuerySet]) -> None:
        self._make_queryset = make

    def _get_deferred_queryset(self) -> QuerySet | None:
        if self._make_queryset is not None:
            make, self._make_queryset = self._make_queryset, None
            # What ModelChoiceField's setter keeps, leaving the widget's choices alone.
            self._queryset = make().all()
        return self._queryset

    def _set_deferred_queryset(self, queryset: QuerySet | None) -> None:
        self._make_queryset = None
        # The stubs declare ModelChoiceField.queryset an attribute; it is a property, whose
        # setter is what this one wraps.
        forms.ModelChoiceField.queryset.fset(self, queryset)  # type: ignore[misc, union-attr]

    queryset = property(_get_deferred_queryset, _set_deferred_queryset)


class ReadChoiceField(DeferredChoiceField):
    """A ModelChoiceField whose form has already read the chosen row (`known`, by pk, set
    by the form from the read of its options): cleaning it looks nothing up again. Any
    other value is cleaned against the queryset as usual."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known: dict[str, Model] = {}

    def to_python(self, value: Any) -> Any:
        known = self.known.get(str(value)) if value not in self.empty_values else None
        return known if known is not None else super().to_python(value)


def _choice_pairs(field: forms.ChoiceField) -> list[tuple[Any, Any]]:
    """The field's (value, label) pairs. Django keeps a field's choices as that list; the
    stubs type them as anything a ChoiceField accepts (a callable, a mapping)."""
    return cast(list[tuple[Any, Any]], field.choices)


def _posted_pk(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _partial[M: Model](model: type[M], db: str, values: dict[str, Any]) -> M:
    """A row of `model` built from the columns already read (`values`, by attname); the
    others are deferred (read if ever touched, as .only() would)."""
    fields = model._meta.concrete_fields
    return model.from_db(
        db, set(values), [values[f.attname] for f in fields if f.attname in values]
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; each is checked by its content (minyi.cases.attachments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.webp,.pdf"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(uploads) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"一次最多上传 {MAX_ATTACHMENTS} 个附件。")
        cleaned = [super(AttachmentsField, self).clean(upload, initial) for upload in uploads]
        for upload in cleaned:
            check_upload(upload)
        return cleaned


MAX_ATTACHMENTS = 10
ATTACHMENT_HELP = (
    f"照片、扫描件或下载的材料：{ALLOWED_LABEL}，每个不超过 10 MB，最多 {MAX_ATTACHMENTS} 个。"
)


class AttachmentForm(forms.Form):
    # The form's metaclass takes declared fields out of the class, so the instance's
    # `files` is still the uploads BaseForm sets; the stubs see the field shadowing them.
    files = AttachmentsField(label="添加附件", help_text=ATTACHMENT_HELP)  # type: ignore[assignment]

    def clean_files(self) -> list[Any]:
        files = self.cleaned_data.get("files") or []
        if not files:
            raise forms.ValidationError("请选择要上传的文件。")
        return files


class RegistrationForm(ScopedModelForm):
    """社情民意登记表: every field of the paper form (annex notes 1–8)."""

    SECTIONS = [
        ("工作室与接待党代表", ["studio", "representative"]),
        ("反映方式（须知第3、4条）", ["channel", "channel_note", "occasion", "received_on"]),
        (
            "反映人（须知第2条）",
            [
                "reporter_name",
                "reporter_gender",
                "reporter_age",
                "reporter_phone",
                "reporter_employer",
                "reporter_employer_address",
                "reporter_home_address",
                "reporter_home_phone",
                "hide_identity_from_unit",
                "about_unit",
            ],
        ),
        ("反映内容", ["category", "summary", "content", "target_level"]),
        ("办理情况（须知第6条）", ["outcome", "spot_answer", "spot_satisfaction"]),
        ("附件（须知第3、4条）", ["attachments"]),
    ]

    attachments = AttachmentsField(label="附件", help_text=ATTACHMENT_HELP)

    reporter_age = forms.IntegerField(
        label="年龄",
        required=False,
        min_value=1,
        max_value=120,
        error_messages={
            "min_value": AGE_MESSAGE,
            "max_value": AGE_MESSAGE,
            "invalid": "年龄请填写整数。",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    class Meta:
        model = Case
        fields = [
            "studio",
            "representative",
            "channel",
            "channel_note",
            "occasion",
            "received_on",
            "category",
            "reporter_name",
            "reporter_gender",
            "reporter_age",
            "reporter_phone",
            "reporter_employer",
            "reporter_employer_address",
            "reporter_home_address",
            "reporter_home_phone",
            "hide_identity_from_unit",
            "about_unit",
            "summary",
            "content",
            "target_level",
            "outcome",
            "spot_answer",
            "spot_satisfaction",
        ]
        widgets = {
            "received_on": DayInput(),
            "outcome": forms.RadioSelect,
            "spot_satisfaction": forms.RadioSelect,
            "reporter_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "reporter_home_phone": forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "off"}
            ),
            "content": Textarea(attrs={"rows": 6}),
            "spot_answer": Textarea(attrs={"rows": 3}),
        }
        field_classes = {
            "studio": ReadChoiceField,
            "representative": DeferredChoiceField,
            "about_unit": DeferredChoiceField,
        }
        help_texts = {
            "channel_note": "网上或其他途径反映的，请注明途径；附件材料另行存档（须知第3条）。",
            "reporter_phone": "11位手机号，或带区号的固定电话，如 0755-12345678。",
            "summary": "一句话概括，将登入跟踪明细帐。",
            "target_level": "党代表建议报送的组织部门层级（跟踪明细帐）。",
        }
        error_messages = {
            "studio": {
                "required": "请选择工作室。",
                "invalid_choice": "请选择您可以登记的工作室。",
            },
            "representative": {
                "required": "请选择接待的党代表。",
                "invalid_choice": "请选择您管辖范围内的在任党代表。",
            },
            "channel": {"required": "请选择反映方式。"},
            "occasion": {"required": "请选择来源。"},
            "received_on": {
                "required": "请填写反映日期。",
                "invalid": "请按“年-月-日”填写有效的日期。",
            },
            "reporter_name": {"required": "请填写反映人姓名。"},
            "summary": {"required": "请填写内容摘要。"},
            "content": {"required": "请填写反映内容。"},
            "outcome": {"required": "请选择办理情况：当场答复或报送街道组织部门。"},
        }

    def __init__(self, *args: Any, studio_hint: Any = None, **kwargs: Any) -> None:
        self.studio_hint = studio_hint
        super().__init__(*args, **kwargs)

    def scope_fields(self) -> None:
        user = self.user
        studio_field = field_of(self, "studio", ReadChoiceField)
        label_choices(studio_field, _studio_label)
        studio_field.empty_label = "请选择"
        # Choosing the studio reloads the representatives who work there. Their select is
        # disabled until the new one arrives: a choice made meanwhile, among the old
        # studio's representatives, would be swapped away without a word.
        studio_field.widget.attrs.update(
            {
                "hx-get": reverse("cases:create"),
                "hx-trigger": "change",
                "hx-target": "#representative-field",
                "hx-swap": "outerHTML",
                "hx-disabled-elt": "#id_representative",
            }
        )
        # One read of the studios' ids and areas serves the preselection, the units
        # around them and the options (they were three reads, two of them of whole
        # studios with two whole org units each).
        # A posted form's studio is built from its row here (what the registration uses
        # of it: the name, the unit's level, short name, number prefix and areas, the
        # street's name), not read again whole with its unit and street when the field is
        # cleaned.
        # Blank or posted, the form takes the studios and the units around them from the
        # shared cache (choice_cache: saves of studios, assignments, org units, handling
        # units, representatives and liaisons bump it once they commit; the key is the
        # scope), and never builds the scoped querysets its fields would clean with (a
        # dozen ORM filters): they are built if read (DeferredChoiceField), e.g. for a
        # studio the cached rows lack, which is then looked up in the scope as before.
        # The cached rows are the choices, as the filters' are (KnownChoiceField).
        posted = _posted_pk(self.data.get(self.add_prefix("studio"))) if self.is_bound else None
        studio_field.defer_queryset(lambda: registrable_studios(user))
        blank = choice_cache.cached(scope_of(user), f"registration-3:{self._gate()}", self._blank)
        rows = blank["studios"]
        self.studio_pks = [row[0] for row in rows]
        chosen = next((row for row in rows if row[0] == posted), None)
        if chosen is not None:
            studio_field.known = {str(posted): self._studio_of(chosen, Studio.objects.db)}
        else:
            posted = None
        # The labels _studio_label gives, in the queryset's order; a posted form shown
        # again shows the same.
        studio_field.widget.choices = [
            ("", "请选择"),
            *[(row[0], f"{row[6] or ''} {row[5]}".strip()) for row in rows],
        ]
        # A posted form shows what was posted: what to preselect matters only to a blank
        # form.
        hint = None if self.is_bound else self._studio_choice(self.studio_pks)
        self.posted_studio = posted
        rep_field = field_of(self, "representative", DeferredChoiceField)
        label_choices(rep_field, _rep_label)
        rep_field.empty_label = "请选择"
        unit_field = field_of(self, "about_unit", DeferredChoiceField)
        unit_field.empty_label = "不涉及具体单位"
        unit_field.required = False
        if self.is_bound:
            rep_field.queryset = self._representatives(None, posted)
        else:
            rep_field.defer_queryset(lambda: self._representatives(hint, None))
        # Read only when a unit is posted.
        unit_field.defer_queryset(lambda: self._units(rows))
        # The option is the unit's name (its str): read as (pk, name) pairs, not as
        # whole units with their encrypted phones decrypted, one per option.
        unit_field.widget.choices = [("", "不涉及具体单位"), *blank["units"]]

        self.fields["received_on"].initial = timezone.localdate()
        for name, default in (("channel", Channel.IN_PERSON), ("occasion", Occasion.RECEPTION)):
            field = field_of(self, name, forms.ChoiceField)
            choices = [(v, label) for v, label in _choice_pairs(field) if v]
            field.choices = [("", "请选择"), *choices]
            field.initial = default
        field_of(self, "outcome", forms.ChoiceField).choices = list(Outcome.choices)
        field_of(self, "spot_satisfaction", forms.ChoiceField).choices = list(Satisfaction.choices)
        self.fields["spot_satisfaction"].required = False
        reporter_gender_field = field_of(self, "reporter_gender", forms.ChoiceField)
        reporter_gender_field.choices = [
            ("", "未填"),
            *[(v, label) for v, label in _choice_pairs(reporter_gender_field) if v],
        ]
        if hint is not None:
            self.initial.setdefault("studio", hint)
        if not self.is_bound:
            # Read once for both the options and the preselection of the only one, and
            # kept with the studios (a representative's own form: theirs alone).
            own = user.pk if user.role == Role.REPRESENTATIVE and not user.is_superuser else ""
            reps_list = choice_cache.cached(
                scope_of(user),
                f"registration-reps:{self._gate()}:{hint or ''}:{own}",
                lambda: [(rep.pk, _rep_label(rep)) for rep in rep_field.queryset],
            )
            rep_field.widget.choices = [("", "请选择"), *reps_list]
            if len(reps_list) == 1:
                self.initial.setdefault("representative", reps_list[0][0])

    def _representatives(self, hint: int | None, posted: int | None) -> QuerySet:
        """The representatives the user may name: active, in scope, a representative
        themselves alone; working at the preselected studio `hint` if any. With the
        `posted` studio, whether each works there (clean's rule) comes with their read,
        not in an existence query after it."""
        user = self.user
        reps = Representative.objects.for_user(user).active()
        if user.role == Role.REPRESENTATIVE and not user.is_superuser:
            # A representative registers what they heard themselves (notes 5, 7).
            reps = reps.filter(user=user)
        if hint is not None:
            reps = reps.filter(assignments__studio=hint, assignments__active=True)
        if posted is not None:
            reps = reps.annotate(
                works_at_posted_studio=Exists(
                    StudioAssignment.objects.filter(
                        studio_id=posted, representative=OuterRef("pk"), active=True
                    )
                )
            )
        return reps.order_by("name").distinct()

    def _gate(self) -> str:
        return registration_gate(self.user)

    def _blank(self) -> dict[str, list[tuple[Any, ...]]]:
        """The form's studios (rows of STUDIO_COLUMNS and the columns a posted studio is
        built from, _studio_of) and the (pk, name) of the handling units around them:
        what choice_cache keeps for the scope."""
        rows = list(
            registrable_studios(self.user).values_list(
                *STUDIO_COLUMNS,
                "unit__level",
                "unit__short_name",
                "unit__province_id",
                "unit__number_prefix",
            )
        )
        return {"studios": rows, "units": list(self._units(rows).values_list("pk", "name"))}

    @staticmethod
    def _studio_of(row: tuple[Any, ...], db: str) -> Studio:
        pk, unit_id, street_id, district_id, city_id, name, street_name = row[:7]
        level, short_name, province_id, prefix = row[7:11]
        unit = _partial(
            OrgUnit,
            db,
            {
                "id": unit_id,
                "level": level,
                "short_name": short_name,
                "province_id": province_id,
                "city_id": city_id,
                "district_id": district_id,
                "street_id": street_id,
                "number_prefix": prefix,
            },
        )
        if street_id is not None:
            unit.street = _partial(OrgUnit, db, {"id": street_id, "name": street_name})
        studio = _partial(Studio, db, {"id": pk, "name": name, "unit_id": unit_id})
        studio.unit = unit
        return studio

    def _studio_choice(self, pks: list[int]) -> int | None:
        """The pk of the studio to preselect, among the registrable `pks`: the one asked
        for, or the user's only one."""
        if self.studio_hint:
            try:
                wanted = int(self.studio_hint)
            except (TypeError, ValueError):
                return None
            return wanted if wanted in pks else None
        return pks[0] if len(pks) == 1 else None

    def _units(self, rows: list[tuple[int, ...]]) -> QuerySet:
        """Handling units in scope, and those answering for the area around the user's
        studios (street, district, city), so a liaison can name the unit complained of.
        `rows` are the studios' (pk, unit, street, district, city, …)."""
        areas = {pk for row in rows for pk in row[1:5] if pk}
        units = HandlingUnit.objects.active().filter(
            Q(pk__in=HandlingUnit.objects.for_user(self.user).values("pk")) | Q(area_id__in=areas)
        )
        # The option shows the name alone: the unit's area is not read with it (a whole
        # org unit per option, and its encrypted phone decrypted).
        return units.order_by("area__level", "name")

    def _get_validation_exclusions(self) -> set[str]:
        # These three were fetched from the user's scoped querysets by their fields just
        # now; the model's own check would look each one up again (a query apiece).
        # A private BaseModelForm method, which the stubs leave out.
        excluded = super()._get_validation_exclusions()  # type: ignore[misc]
        return excluded | {"studio", "representative", "about_unit"}

    def clean_reporter_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("reporter_phone", ""))

    def clean_reporter_home_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("reporter_home_phone", ""))

    def clean_reporter_name(self) -> str:
        name = (self.cleaned_data.get("reporter_name") or "").strip()
        if not name:
            raise forms.ValidationError("请填写反映人姓名。")
        return name

    def clean_summary(self) -> str:
        summary = (self.cleaned_data.get("summary") or "").strip()
        if not summary:
            raise forms.ValidationError("请填写内容摘要。")
        return summary

    def clean_received_on(self) -> Any:
        received = self.cleaned_data.get("received_on")
        if received and received > timezone.localdate():
            raise forms.ValidationError("反映日期不能晚于今天。")
        return received

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        studio, rep = data.get("studio"), data.get("representative")
        if studio is not None and rep is not None and not self._works_at(rep, studio):
            self.add_error("representative", f"{rep.name} 没有进驻{studio.name}。")
        if data.get("channel") == Channel.OTHER and not data.get("channel_note", "").strip():
            self.add_error("channel_note", "通过其他途径反映的，请注明途径（须知第3条）。")
        if data.get("outcome") == Outcome.ON_THE_SPOT:
            if not (data.get("spot_answer") or "").strip():
                self.add_error("spot_answer", "当场答复的，请填写答复内容。")
            if not data.get("spot_satisfaction"):
                self.add_error("spot_satisfaction", "当场答复的，请记录反映人的满意度。")
        elif data.get("outcome") == Outcome.SENT_ON:
            data["spot_answer"], data["spot_satisfaction"] = "", ""
        return data

    def _works_at(self, rep: Representative, studio: Studio) -> bool:
        if studio.pk == self.posted_studio and hasattr(rep, "works_at_posted_studio"):
            return rep.works_at_posted_studio
        return StudioAssignment.objects.filter(
            studio=studio, representative=rep, active=True
        ).exists()

    def case_data(self) -> dict[str, Any]:
        """The fields `services.case_register` takes as `data`."""
        skip = {"studio", "representative", "attachments"}
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name not in skip}

    def sections(self) -> list[tuple[str, list[Any]]]:
        # The bound fields by fieldset: what the template iterated before `rows`
        # (tests/cases/test_form_rows.py renders that template beside it).
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def rows(self) -> SafeString:
        """The fieldsets and their rows, written in Python (minyi.cases.form_rows)."""
        return form_rows.sections(self, self.SECTIONS)

    def representative_row(self) -> SafeString:
        """The representative's row, which htmx swaps when the studio changes."""
        return form_rows.representative_row(self)


class RegistrationPageForm(OnceOnlyFormMixin, RegistrationForm):
    """The registration page's form: the API's fields and rules, and the one-time key
    that makes a double click register one case (minyi.core.once). The API has its own
    Idempotency-Key and uses RegistrationForm."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init_once_only()


# --- filters -------------------------------------------------------------------------


def _scope_units(user: Any) -> QuerySet:
    """The handling units a case in scope can have been referred to (the filter's
    choices), found from the organisation rather than from the cases: a case is
    referred by the department of its studio's street, district or city (CM 10,
    `services.units_for_referral`), so the units whose area is the scope's area, lies
    beneath it or above it. Retired units stay: old cases still name them."""
    scope = scope_of(user)
    # Only what the option shows: the contact phone is encrypted, one decryption each.
    units = HandlingUnit.objects.only("name", "retired_at").order_by("retired_at", "name")
    if scope.everything:
        return units
    if scope.handling_unit_id is not None:
        return HandlingUnit.objects.for_user(user).only("name", "retired_at").order_by("name")
    if scope.unit is not None:
        unit = scope.unit
        above = [getattr(unit, f"{level}_id") for level in ANCESTOR_LEVELS]
        # One IN over the units (beneath, and the ancestors), not IN … OR IN …: an OR of
        # a sub-query and a list reads every handling unit (56 ms nationally).
        areas = OrgUnit.objects.filter(unit.subtree_q() | Q(pk__in=[a for a in above if a]))
        return units.filter(area__in=areas.values("pk"))
    if not (scope.studio_ids or scope.representative_ids):
        return units.none()
    studios = Q(pk__in=scope.studio_ids)
    if scope.representative_ids:
        # A representative keeps the cases they received at a studio they have left.
        studios |= Q(assignments__representative_id__in=scope.representative_ids)
    rows = (
        Studio.objects.filter(studios)
        .values_list(
            "unit_id",
            "unit__street_id",
            "unit__district_id",
            "unit__city_id",
            "unit__province_id",
        )
        .distinct()
    )
    return units.filter(area_id__in={pk for row in rows for pk in row if pk})


def _scope_years(user: Any) -> list[int]:
    """From the year of the first case registered anywhere to this year, newest first.
    The first case is one read at the end of the received_on index, whatever the
    number of cases; reading the years off the cases in scope was a scan of them all
    (docs/performance.md, finding 2). A year without cases in scope shows an empty
    list, which is the true answer for it."""
    this_year = timezone.localdate().year
    start = min(_first_year(), this_year)
    return list(range(this_year, start - 1, -1))


_FIRST_YEAR_SECONDS = 300
_first_year_seen: tuple[float, int] = (float("-inf"), 0)


def _first_year() -> int:
    """The year of the first case registered, kept by the process for five minutes: it
    changes only when a case older than every other is registered, and a query on every
    list and ledger view was a fifth of their fixed cost. A year that late shows up in
    the select within five minutes; `?year=` is checked against the same list."""
    global _first_year_seen
    seen_at, year = _first_year_seen
    now = time.monotonic()
    if now - seen_at > _FIRST_YEAR_SECONDS:
        first = Case.objects.order_by("received_on").values_list("received_on", flat=True).first()
        year = first.year if first else timezone.localdate().year
        _first_year_seen = (now, year)
    return year


# The list's and the ledger's studio and handling-unit filters offer every one in scope
# up to this many (a street has some 70 studios; a district up to 1,500, a city 7,000,
# the country 620,000, and handling units grow with them). A larger scope gets the one
# it asked for (?studio=, the dashboards' links) and a search by name instead: a
# 1,500-option select is unusable, and building it grew the page's time with the scope
# (docs/performance.md).
SELECT_LIMIT = 200
NAME_MAX = 50


class KnownChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that knows the rows it offers (`known`: pk → the cached row),
    so cleaning one of them reads nothing more: the chosen one becomes a model object
    with just those columns (`build`). Any other value is looked up in the queryset,
    which is scoped: a value out of scope is an invalid choice, as with
    ModelChoiceField."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known: dict[str, tuple] = {}
        self.build: Callable[[tuple], Model] | None = None

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and str(value) in self.known and self.build:
            return self.build(self.known[str(value)])
        return super().to_python(value)


def _bounded_select(model: type[Model], label: str) -> KnownChoiceField:
    return KnownChoiceField(
        label=label,
        queryset=model.objects.none(),  # type: ignore[attr-defined]
        empty_label="全部",
        error_messages={"invalid_choice": f"请从列表中选择您管辖范围内的{label}。"},
    )


def _name_search(label: str, suggest: str | None = None) -> forms.CharField:
    attrs = {"placeholder": "输入名称中的字词"}
    return forms.CharField(
        label=label,
        max_length=NAME_MAX,
        widget=(
            SuggestingSearchInput(reverse_lazy(suggest), attrs=attrs)
            if suggest
            else forms.TextInput(attrs={"type": "search", **attrs})
        ),
        error_messages={"max_length": f"{label}最多 {NAME_MAX} 个字，请缩短后再筛选。"},
    )


class _Rows:
    """The cached form of a model's choices: rows of (pk, *columns). `build` makes the
    chosen one a model object with those columns, the others deferred, as the
    queryset's .only() would have."""

    def __init__(self, model: type[Model], columns: tuple[str, ...]) -> None:
        self.model, self.columns = model, columns
        self.names = ["id", *columns]

    def build(self, row: tuple) -> Model:
        return self.model.from_db(None, self.names, list(row))


_STUDIO_ROWS = _Rows(Studio, ("name",))
_UNIT_ROWS = _Rows(HandlingUnit, ("name", "retired_at"))


def _offered(queryset: QuerySet, columns: tuple[str, ...], sort_key: Callable) -> list | None:
    """At most SELECT_LIMIT rows of (pk, *columns) of the scoped `queryset`, sorted by
    `sort_key`, or None for a larger scope. One read of at most SELECT_LIMIT + 1 rows,
    unordered, so the database stops there (an ORDER BY would read the whole scope
    before the LIMIT)."""
    rows = list(queryset.order_by().values_list("pk", *columns)[: SELECT_LIMIT + 1])
    if len(rows) > SELECT_LIMIT:
        return None
    rows.sort(key=sort_key)
    return rows


def _bound_choices(
    form: ScopeFilterForm,
    name: str,
    search: str,
    queryset: Callable[[], QuerySet],
    offered: list | None,
    rows: _Rows,
    label: Callable[[tuple], str],
) -> None:
    """Choices for the select `name` at a cost that does not grow with the scope: the
    scope's rows `offered` (cached, choice_cache), plus, for a large scope asked for
    one, that one. A small scope keeps the select of all of them and has no search
    field; a large one offers only the one asked for, and the text field `search` (a
    name search)."""
    field = field_of(form, name, KnownChoiceField)
    field.build = rows.build
    wanted = str(form.data.get(name) or "") if form.is_bound else ""
    if offered is not None:
        del form.fields[search]
    else:
        # A pk has at most 18 digits (bigint); a longer number is simply not in scope.
        offered = (
            list(queryset().filter(pk=int(wanted)).values_list("pk", *rows.columns))
            if wanted.isdigit() and len(wanted) <= 18
            else []
        )
    field.known = {str(row[0]): row for row in offered}
    # The scoped queryset is built (a few ORM filters, about a millisecond) only when
    # cleaning needs it: a value the offered rows lack, which it then refuses or finds.
    if wanted and wanted not in field.known:
        field.queryset = queryset()
    field.widget.choices = [("", field.empty_label), *[(row[0], label(row)) for row in offered]]


def _scope_choices(form: ScopeFilterForm) -> dict[str, list | None]:
    """The scope's studios, handling units and categories as the filters offer them
    (None: too many to list), from the shared cache (choice_cache), read once per
    form."""
    if form._choices is None:
        user = form.user

        def compute() -> dict[str, list | None]:
            studios = Studio.objects.for_user(user)
            return {
                # By code point, as the C collation the databases use orders them.
                "studios": _offered(studios, _STUDIO_ROWS.columns, lambda s: (s[1], s[0])),
                # Current units by name, then the retired ones by date retired (ORDER BY
                # retired_at put them first on PostgreSQL, which sorts NULLs last, and
                # last on SQLite).
                "units": _offered(
                    _scope_units(user),
                    _UNIT_ROWS.columns,
                    lambda u: (u[2] is not None, u[2] and u[2].timestamp(), u[1]),
                ),
                "categories": _scope_categories(user),
            }

        form._choices = choice_cache.cached(scope_of(user), _FILTERS_WHAT, compute)
    return form._choices


def _scope_studio_and_unit(form: ScopeFilterForm) -> None:
    # Only what the options show (the filter needs no more of the chosen one than its
    # pk; a unit's contact phone is encrypted, one decryption each).
    choices = _scope_choices(form)
    _bound_choices(
        form,
        "studio",
        "studio_name",
        lambda: Studio.objects.for_user(form.user).only(*_STUDIO_ROWS.columns),
        choices["studios"],
        _STUDIO_ROWS,
        lambda s: s[1],
    )
    _bound_choices(
        form,
        "handling_unit",
        "handling_unit_name",
        lambda: _scope_units(form.user),
        choices["units"],
        _UNIT_ROWS,
        lambda u: f"{u[1]}（已撤销）" if u[2] else u[1],
    )


def studios_named(user: Any, text: str) -> QuerySet:
    """The pks of the studios in the user's scope whose name contains `text`: the name
    search of a large scope's list and ledger."""
    return Studio.objects.for_user(user).filter(name__icontains=text).values("pk")


SUGGESTIONS = 20


def studio_suggestions(user: Any, text: str) -> list[str]:
    """Up to SUGGESTIONS names of studios in the user's scope containing `text`, for
    the name search's type-ahead. Unordered in the database, so it stops at the
    twentieth match however many studios match ("社区" matches nearly all)."""
    text = text.strip()
    if not text or len(text) > NAME_MAX:
        return []
    named = Studio.objects.for_user(user).filter(name__icontains=text).order_by()
    return sorted(set(named.values_list("name", flat=True)[:SUGGESTIONS]))


# The category filter's choices are the categories used at the studios in scope
# (`StudioCategory`, studios times categories, about twelve a studio). A street (some
# 70 studios, up to 300 rows in Shenzhen) and an ordinary district (宝安区, 141 studios,
# 1,692 rows) keep the select of all of them; a larger scope (a district of 1,526
# studios has some 18,000 rows, the country millions) gets a text field instead.
CATEGORY_LIMIT = 2000
CATEGORY_MAX = 50  # Case.category
# The filters' choices as choice_cache keeps them (the limits decide what they hold).
_FILTERS_WHAT = f"filters:{SELECT_LIMIT}:{CATEGORY_LIMIT}"
CATEGORY_HINT = "输入类别名称；未分类请填“-”"


def _scope_categories(user: Any) -> list[str] | None:
    """The names of the categories used in the user's scope, sorted by code point (as
    the C collation sorts them), or None for a scope with more than CATEGORY_LIMIT
    (studio, category) pairs. One read of at most CATEGORY_LIMIT + 1 rows, without
    DISTINCT or ORDER BY so the database stops there; deduplicated here."""
    rows = list(
        StudioCategory.objects.for_user(user)
        .order_by()
        .values_list("name", flat=True)[: CATEGORY_LIMIT + 1]
    )
    return None if len(rows) > CATEGORY_LIMIT else sorted(set(rows))


class CategorySearchField(forms.CharField):
    """A large scope's category filter: any category name (as the dashboards link with
    it: `?category=<name>`, or "-" for 未分类), checked for its length and form rather
    than against the scope's categories. A name used nowhere in scope finds no case."""

    def __init__(self) -> None:
        super().__init__(
            label="类别",
            required=False,
            max_length=CATEGORY_MAX,
            widget=SuggestingSearchInput(
                reverse_lazy("cases:category_suggestions"),
                attrs={"placeholder": CATEGORY_HINT},
            ),
            error_messages={
                "max_length": f"类别最多 {CATEGORY_MAX} 个字，请缩短后再筛选。",
                "null_characters_not_allowed": "类别中有无法识别的字符，请重新输入。",
            },
        )

    def validate(self, value: Any) -> None:
        super().validate(value)
        if any(ch < " " for ch in value):
            raise forms.ValidationError("类别中有无法识别的字符，请重新输入。", code="invalid")


def category_suggestions(user: Any, text: str) -> tuple[bool, list[str]]:
    """The category box's type-ahead: whether "未分类" matches `text`, and up to
    SUGGESTIONS names of categories used in the user's scope containing it. Read as the
    choices are (at most CATEGORY_LIMIT + 1 rows, unordered, deduplicated here), so the
    cost stays bounded in the largest scope; a category used only at a few studios of a
    very large scope may then be missed, and is still found by typing its name."""
    text = text.strip()
    if not text or len(text) > CATEGORY_MAX:
        return False, []
    rows = (
        StudioCategory.objects.for_user(user)
        .filter(name__icontains=text)
        .order_by()
        .values_list("name", flat=True)[: CATEGORY_LIMIT + 1]
    )
    uncategorised = text == NO_CATEGORY or text in "未分类"
    return uncategorised, sorted(set(rows))[:SUGGESTIONS]


def units_named(user: Any, text: str) -> QuerySet:
    """The pks of the handling units of the user's scope whose name contains `text`."""
    return _scope_units(user).filter(name__icontains=text).values("pk")


NO_CATEGORY = "-"
LEVEL_NONE = "none"
LEVEL_CHOICES = [("", "全部"), (LEVEL_NONE, "未报送"), *HolderLevel.choices]
ANSWER_ON_TIME, ANSWER_LATE, ANSWER_NONE = "on_time", "late", "none"
ANSWER_CHOICES = [
    ("", "全部"),
    (ANSWER_ON_TIME, "均按期答复"),
    (ANSWER_LATE, "有超期答复"),
    (ANSWER_NONE, "尚未答复"),
]


class ScopeFilterForm(FilterForm):
    """A filter form offering the scope's studios and handling units (_scope_choices)."""

    # The scope's choices, once read (_scope_choices).
    _choices: dict[str, list | None] | None = None


class CaseFilterForm(ScopeFilterForm):
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *CaseState.choices])
    studio = _bounded_select(Studio, "工作室")
    studio_name = _name_search("工作室名称", "cases:studio_suggestions")
    handling_unit = _bounded_select(HandlingUnit, "承办单位")
    handling_unit_name = _name_search("承办单位名称")
    year = forms.TypedChoiceField(label="年度", coerce=int, empty_value=None)
    rating = forms.ChoiceField(label="评议结果", choices=[("", "全部"), *Satisfaction.choices])
    overdue = forms.BooleanField(label="只看已超期")
    due_soon = forms.BooleanField(label=f"只看 {DUE_SOON_WORKDAYS} 个工作日内到期")
    held_by_me = forms.BooleanField(label="只看本部门正在办理的")
    to_rate = forms.BooleanField(label="只看待本部门评议的")
    # A handling unit's own work (minyi.cases.summary.UNIT_WORK), which its start page
    # counts and links to; only a unit's account has it.
    work = forms.ChoiceField(
        label="本单位",
        choices=[("", "全部"), *UNIT_WORK.items()],
        error_messages={"invalid_choice": f"请从{'、'.join(UNIT_WORK.values())}中选择。"},
    )
    # The filters the dashboards drill into (minyi.dashboards); each has an index.
    date_from = forms.DateField(label="反映日期从", widget=forms.DateInput(attrs=DATE_WIDGET))
    date_to = forms.DateField(label="至", widget=forms.DateInput(attrs=DATE_WIDGET))
    channel = forms.ChoiceField(label="反映方式", choices=[("", "全部"), *Channel.choices])
    category = forms.ChoiceField(
        label="类别", error_messages={"invalid_choice": "请从列表中选择类别。"}
    )
    level = forms.ChoiceField(label="报送到", choices=LEVEL_CHOICES)
    answer = forms.ChoiceField(label="答复", choices=ANSWER_CHOICES)
    unit = forms.ModelChoiceField(
        label="所属单位", queryset=OrgUnit.objects.none(), empty_label="全部"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not getattr(self.user, "is_official", False):
            del self.fields["held_by_me"]
            del self.fields["to_rate"]
        if unit_of(self.user) is None:
            del self.fields["work"]
        self._scope_dashboard_fields()
        self.fields["q"].label = "编号或摘要"
        self.fields["q"].widget = forms.TextInput(attrs={"type": "search"})
        _scope_studio_and_unit(self)
        years = _scope_years(self.user)
        field_of(self, "year", forms.ChoiceField).choices = [
            ("", "全部"),
            *[(y, f"{y}年") for y in years],
        ]
        self.fields["year"].error_messages["invalid_choice"] = (
            f"年度只能选 {years[-1]} 年至 {years[0]} 年。"
        )
        # Django's own message repeats the address's value back («x 不在可用的选项中»);
        # a filter names what to choose from instead.
        for name in ("state", "rating", "channel", "level", "answer"):
            field = self.fields[name]
            field.error_messages["invalid_choice"] = f"请从列表中选择{field.label}。"

    def _scope_dashboard_fields(self) -> None:
        # The categories used at the studios in scope (a small table kept by
        # case_register), not DISTINCT over the cases in scope; a large scope gets a
        # text field (CATEGORY_LIMIT).
        categories = _scope_choices(self)["categories"]
        if categories is None:
            self.fields["category"] = CategorySearchField()
        else:
            field_of(self, "category", forms.ChoiceField).choices = [
                ("", "全部"),
                (NO_CATEGORY, "未分类"),
                *[(c, c) for c in categories],
            ]
        # A unit is a dashboard's drill-down, not an everyday filter: the field is there
        # only when the address names one, and offers only that unit, if in scope.
        # A unit out of scope is a 404, as everywhere: an invalid filter would otherwise
        # show the unfiltered list under a heading that names the unit.
        unit_pk = self.data.get("unit") if self.is_bound else None
        if not unit_pk:
            del self.fields["unit"]
            return
        units = OrgUnit.objects.for_user(self.user)
        if not str(unit_pk).isdigit() or not units.filter(pk=unit_pk).exists():
            raise Http404
        field_of(self, "unit", forms.ModelChoiceField).queryset = units.filter(pk=unit_pk)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class LedgerFilterForm(ScopeFilterForm):
    date_from = forms.DateField(label="反映日期从", widget=forms.DateInput(attrs=DATE_WIDGET))
    date_to = forms.DateField(label="至", widget=forms.DateInput(attrs=DATE_WIDGET))
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *CaseState.choices])
    studio = _bounded_select(Studio, "工作室")
    studio_name = _name_search("工作室名称", "cases:studio_suggestions")
    handling_unit = _bounded_select(HandlingUnit, "承办单位")
    handling_unit_name = _name_search("承办单位名称")
    rating = forms.ChoiceField(label="评议结果", choices=[("", "全部"), *Satisfaction.choices])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["q"]
        _scope_studio_and_unit(self)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


# --- workflow steps ------------------------------------------------------------------


class StepForm(forms.Form):
    """Every step form: the case's version as loaded, checked by the service."""

    default_renderer = FAST_RENDERER

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "页面已过期，请刷新后再操作。",
            "invalid": "页面已过期，请刷新后再操作。",
        },
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        self.case = case
        # Several step forms share a page: keep their element ids apart.
        name = type(self).__name__.removesuffix("Form").lower()
        who = (kwargs.get("initial") or {}).get("who", "")
        kwargs.setdefault("auto_id", f"id_{name}{'_' + who if who else ''}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", case.version)
        super().__init__(*args, **kwargs)


def _text(
    label: str, message: str | None = None, *, limit: int = NOTE_MAX, rows: int = 3, **kwargs: Any
) -> Any:
    """A step's free text, capped by its kind (minyi.core.text_limits): a reason or a
    remark by default."""
    return forms.CharField(
        label=label,
        required=message is not None,
        max_length=limit,
        error_messages={"required": message} if message else {},
        widget=Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class ConfirmForm(StepForm):
    who = forms.ChoiceField(
        choices=[("representative", "党代表"), ("reporter", "反映人")],
        widget=forms.HiddenInput,
        error_messages={"required": "请说明由谁确认。", "invalid_choice": "请说明由谁确认。"},
    )


class SendForm(StepForm):
    pass


class ReferForm(StepForm):
    handling_unit = forms.ModelChoiceField(
        label="承办单位",
        queryset=HandlingUnit.objects.none(),
        empty_label="请选择",
        error_messages={
            "required": "请选择承办单位。",
            "invalid_choice": "只能转办给本级组织部门所在区域的承办单位。",
        },
    )
    note = _text("转办说明", rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from minyi.cases.services import units_for_referral

        super().__init__(*args, **kwargs)
        # The option shows the name; the referral checks the area and retirement
        # (services.may_refer_to). Not the phone, which each loaded row would decrypt.
        units = units_for_referral(self.case).only("name", "area", "retired_at")
        field_of(self, "handling_unit", forms.ModelChoiceField).queryset = units


class EscalateForm(StepForm):
    reason = _text("上报理由", "请说明上报理由（例如超出本级管理权限）。", rows=2)


class ReturnForm(StepForm):
    reason = _text("退回理由", "退回须说明理由。", rows=2)


class ExtensionForm(StepForm):
    reason = _text("延期理由", "申请延期须说明理由。", rows=2)


class ExtensionDecideForm(StepForm):
    consent = forms.ChoiceField(
        label="是否同意延期至 30 个工作日",
        choices=[("yes", "同意"), ("no", "不同意")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择同意或不同意。"},
    )
    note = _text(
        "意见",
        rows=2,
        help_text="代党代表记录的（组织部门），必须写明党代表是如何表示的：电话、书面或当面。",
    )


class PlanForm(StepForm):
    plan = _text("办理计划", "请填写办理计划（措施、责任人、时限）。", limit=ACCOUNT_MAX)


class AnswerForm(StepForm):
    text = _text("书面答复内容", "请填写书面答复内容。", limit=DOCUMENT_MAX, rows=5)
    result = forms.CharField(
        label="办理结果", required=False, max_length=200, help_text="一句话概括，登入跟踪明细帐。"
    )


class UrgeForm(StepForm):
    note = _text("督办意见", rows=2)


class ConsultForm(StepForm):
    held_on = forms.DateField(
        label="协商日期",
        widget=DayInput(),
        error_messages={
            "required": "请填写协商日期。",
            "invalid": "请按“年-月-日”填写有效的日期。",
        },
    )
    attendees = _text("参加人员（反映人、党代表、承办单位）", "请填写参加人员。", rows=2)
    minutes = _text("协商纪要", "请填写协商纪要。", limit=DOCUMENT_MAX, rows=4)
    outcome = _text("协商结果", limit=ACCOUNT_MAX, rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = timezone.localdate()

    def clean_held_on(self) -> Any:
        held = self.cleaned_data.get("held_on")
        if held and held > timezone.localdate():
            raise forms.ValidationError("协商日期不能晚于今天；尚未举行的协商请先作备注。")
        if held and held < self.case.received_on:
            raise forms.ValidationError("协商日期不能早于反映日期。")
        return held


class EvaluateForm(StepForm):
    rating = forms.ChoiceField(
        label="对承办单位办理情况的评价",
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评议结果。"},
    )
    reporter_confirmed = forms.BooleanField(label="反映人已签名确认", required=False)
    representative_confirmed = forms.BooleanField(label="党代表已签名确认", required=False)
    street_head_confirmed = forms.BooleanField(label="街道组织部门负责人已签名确认", required=False)
    comment = _text("评议意见", rows=2)
    reopen = forms.BooleanField(label="不满意，退回承办单位重新办理", required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("reopen") and data.get("rating") != Satisfaction.DISSATISFIED:
            self.add_error("reopen", "只有“不满意”的案件才能退回重新办理。")
        return data


CARRY_FORWARD_FORMS = ["代表提案", "建议", "询问", "质询"]


class CarryForwardForm(StepForm):
    form = forms.ChoiceField(
        label=f"提出方式（{cite('CM 9')}）",
        choices=[(f, f) for f in CARRY_FORWARD_FORMS],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择提出方式。", "invalid_choice": "请选择提出方式。"},
    )
    note = _text("说明", rows=2)


class NoteForm(StepForm):
    text = _text("备注", "请填写备注内容。", rows=2)
