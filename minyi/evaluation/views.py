"""Year-end evaluation pages. Thin: a scoped fetch, one service call, a redirect.

Reading: organisation departments see every round and the assessments of the studios
in their scope; liaisons, representatives and handling units see nothing (404).
Assessing: the same departments, while the round is open. The summary, the circular
and the round's steps: the city organisation department (for_editor on the round).
The approved circular: every organisation department."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minyi import audit
from minyi.audit.models import Action as AuditAction
from minyi.core.forms import add_errors
from minyi.documents.pdf import pdf_response, render_pdf
from minyi.evaluation import services
from minyi.evaluation.excel import xlsx_response
from minyi.evaluation.exports import circular_workbook, summary_workbook
from minyi.evaluation.forms import (
    AssessmentForm,
    CircularForm,
    DecisionForm,
    RoundOpenForm,
    VersionForm,
)
from minyi.evaluation.models import (
    Criterion,
    EvaluationRound,
    StudioAssessment,
    StudioOutcome,
)
from minyi.evaluation.states import NotAllowed, RoundState, refusal
from minyi.evaluation.summary import RATING_LABELS, assessments_with_scores, decorate, summary_of
from minyi.people.scopes import scope_of

PAGE_SIZE = 50
PENDING = "pending"


def _official(request: HttpRequest) -> None:
    scope = scope_of(request.user)
    if not (scope.everything or scope.unit is not None):
        raise Http404


def _round(request: HttpRequest, pk: int, *, city: bool = False) -> EvaluationRound:
    manager = EvaluationRound.objects
    qs = manager.for_editor(request.user) if city else manager.for_user(request.user)
    return get_object_or_404(qs.select_related("circular"), pk=pk)


def _version_form(round: EvaluationRound) -> VersionForm:
    """The round's version for the page's action buttons. Several forms carry it, so
    its hidden field has no id: one id repeated is not valid HTML and leaves assistive
    technology to guess which element it names."""
    return VersionForm(initial={"version": round.version}, auto_id=False)


def _is_city(request: HttpRequest, round: EvaluationRound | None = None) -> bool:
    qs = EvaluationRound.objects.for_editor(request.user)
    return qs.filter(pk=round.pk).exists() if round else services.is_city(request.user)


# --- rounds ---------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _official(request)
    rounds = list(EvaluationRound.objects.for_user(request.user).order_by("-year"))
    form = RoundOpenForm() if services.is_city(request.user) else None
    return render(request, "evaluation/index.html", {"rounds": rounds, "open_form": form})


@require_POST
def round_open(request: HttpRequest) -> HttpResponse:
    _official(request)
    if not services.is_city(request.user):
        raise Http404
    form = RoundOpenForm(request.POST)
    if form.is_valid():
        try:
            round = services.round_open(actor=request.user, year=form.cleaned_data["year"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"{round.year}年度评估已开展，各工作室的评估项已根据记录预填。"
            )
            return redirect(round.get_absolute_url())
    rounds = list(EvaluationRound.objects.for_user(request.user).order_by("-year"))
    context = {"rounds": rounds, "open_form": form}
    return render(request, "evaluation/index.html", context, status=400)


@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    round = _round(request, pk)
    qs = StudioAssessment.objects.for_user(request.user).filter(round=round)
    shown = request.GET.get("outcome", "")
    if shown == PENDING:
        qs = qs.filter(outcome="")
    elif shown in StudioOutcome.values:
        qs = qs.filter(outcome=shown)
    else:
        shown = ""
    qs = assessments_with_scores(qs).order_by("studio__unit__code", "studio__name", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [decorate(a, round.year) for a in page.object_list]
    counts = StudioAssessment.objects.for_user(request.user).filter(round=round)
    context = {
        "round": round,
        "page": page,
        "rows": rows,
        "criteria": Criterion.labels,
        "shown": shown,
        "outcomes": StudioOutcome.choices,
        "total": counts.count(),
        "pending": counts.filter(outcome="").count(),
        "is_city": _is_city(request, round),
        "version_form": _version_form(round),
        "query": f"outcome={shown}" if shown else "",
    }
    return render(request, "evaluation/round.html", context)


def _round_step(request: HttpRequest, pk: int, run: Any, done: str) -> HttpResponse:
    round = _round(request, pk, city=True)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "页面已过期，请刷新后再操作。")
        return redirect(round.get_absolute_url())
    try:
        run(round, form.cleaned_data["version"])
    except services.Changed as exc:
        messages.error(request, str(exc))
        return redirect(round.get_absolute_url())
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect(round.get_absolute_url())
    messages.success(request, done)
    return redirect(round.get_absolute_url())


@require_POST
def round_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    return _round_step(
        request,
        pk,
        lambda r, v: services.round_refresh(actor=request.user, round=r, version=v),
        "已根据最新记录重新取数，评估人的调整和理由保持不变。",
    )


@require_POST
def round_finalise(request: HttpRequest, pk: int) -> HttpResponse:
    return _round_step(
        request,
        pk,
        lambda r, v: services.round_finalise(actor=request.user, round=r, version=v),
        "评估已定稿，已生成通报草稿。",
    )


@require_POST
def round_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _round_step(
        request,
        pk,
        lambda r, v: services.round_reopen(actor=request.user, round=r, version=v),
        "评估已重新开放，可以修改。",
    )


# --- a studio's assessment ------------------------------------------------------------


def _assessment(request: HttpRequest, pk: int) -> StudioAssessment:
    qs = assessments_with_scores(StudioAssessment.objects.for_user(request.user)).select_related(
        "round"
    )
    return decorate(get_object_or_404(qs, pk=pk))


@require_http_methods(["GET", "POST"])
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    assessment = _assessment(request, pk)
    editable = assessment.round.state == RoundState.ASSESSING
    if request.method == "GET":
        form = AssessmentForm(assessment=assessment) if editable else None
        return _render_assessment(request, assessment, form)
    if not editable:
        return _render_assessment(
            request,
            assessment,
            None,
            status=400,
            error=f"{refusal(assessment.round.state)}，评估不能再修改。",
        )
    form = AssessmentForm(request.POST, assessment=assessment)
    if not form.is_valid():
        return _render_assessment(request, assessment, form, status=400)
    d = form.cleaned_data
    try:
        services.assessment_save(
            actor=request.user,
            assessment=assessment,
            version=d["version"],
            criteria=form.criterion_inputs(),
            outcome=d["outcome"],
            outcome_reason=d["outcome_reason"],
        )
    except services.Changed as exc:
        fresh = _assessment(request, pk)
        typed = request.POST.copy()
        typed["version"] = str(fresh.version)
        kept = AssessmentForm(typed, assessment=fresh)
        kept.is_valid()
        return _render_assessment(request, fresh, kept, status=409, error=str(exc))
    except NotAllowed as exc:
        fresh = _assessment(request, pk)
        return _render_assessment(request, fresh, None, status=400, error=str(exc))
    except ValidationError as exc:
        add_errors(form, exc)
        return _render_assessment(request, assessment, form, status=400)
    messages.success(request, f"{assessment.studio.name}的评估已保存。")
    return redirect("evaluation:assessment", pk=pk)


def _render_assessment(
    request: HttpRequest,
    assessment: StudioAssessment,
    form: AssessmentForm | None,
    *,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    rows = [
        {
            "score": row,
            "field": form[f"score_{row.criterion}"] if form else None,
            "reason": form[f"reason_{row.criterion}"] if form else None,
        }
        for row in assessment.ordered_scores  # type: ignore[attr-defined]  # summary.decorate
    ]
    context = {
        "assessment": assessment,
        "round": assessment.round,
        "rows": rows,
        "form": form,
        "error": error,
    }
    return render(request, "evaluation/assessment.html", context, status=status)


# --- summary and circular -------------------------------------------------------------


@require_GET
def summary(request: HttpRequest, pk: int) -> HttpResponse:
    round = _round(request, pk, city=True)
    context = {
        "round": round,
        "summary": summary_of(round),
        "criteria": Criterion.labels,
        "ratings": RATING_LABELS,
    }
    return render(request, "evaluation/summary.html", context)


@require_GET
def summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    round = _round(request, pk, city=True)
    context = {
        "round": round,
        "summary": summary_of(round),
        "criteria": Criterion.labels,
        "ratings": RATING_LABELS,
    }
    data = render_pdf("documents/evaluation_summary.html", context, request)
    audit.record(AuditAction.EXPORT, round, detail="PDF：年度评估汇总")
    return pdf_response(data, f"{round.year}年度评估汇总.pdf")


@require_GET
def summary_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    round = _round(request, pk, city=True)
    audit.record(AuditAction.EXPORT, round, detail="Excel：年度评估汇总")
    return xlsx_response(
        summary_workbook(round, summary_of(round)), f"{round.year}年度评估汇总.xlsx"
    )


def _circular_round(request: HttpRequest, pk: int) -> EvaluationRound:
    """The city sees the circular at every stage; other departments once approved."""
    round = _round(request, pk)
    if not hasattr(round, "circular"):
        raise Http404
    if round.state != RoundState.APPROVED and not _is_city(request, round):
        raise Http404
    return round


@require_GET
def circular(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    round = _circular_round(request, pk)
    return _render_circular(request, round)


def _render_circular(
    request: HttpRequest,
    round: EvaluationRound,
    *,
    form: CircularForm | None = None,
    decision: DecisionForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    is_city = _is_city(request, round)
    c = round.circular
    if form is None and is_city and round.state == RoundState.DRAFTING:
        form = CircularForm(initial={"version": round.version, "title": c.title, "body": c.body})
    if decision is None and is_city and round.state == RoundState.SUBMITTED:
        decision = DecisionForm(initial={"version": round.version})
    context = {
        "round": round,
        "circular": c,
        "form": form,
        "decision": decision,
        "is_city": is_city,
        "version_form": _version_form(round),
        "error": error,
    }
    return render(request, "evaluation/circular.html", context, status=status)


@require_POST
def circular_edit(request: HttpRequest, pk: int) -> HttpResponse:
    round = _round(request, pk, city=True)
    if not hasattr(round, "circular"):
        raise Http404
    form = CircularForm(request.POST)
    if not form.is_valid():
        return _render_circular(request, round, form=form, status=400)
    d = form.cleaned_data
    try:
        services.circular_update(
            actor=request.user, round=round, version=d["version"], title=d["title"], body=d["body"]
        )
    except (services.Changed, NotAllowed) as exc:
        fresh = _round(request, pk, city=True)
        status = 409 if isinstance(exc, services.Changed) else 400
        return _render_circular(request, fresh, status=status, error=str(exc))
    except ValidationError as exc:
        add_errors(form, exc)
        return _render_circular(request, round, form=form, status=400)
    messages.success(request, "通报草稿已保存。")
    return redirect("evaluation:circular", pk=pk)


def _decision(request: HttpRequest, pk: int, run: Any, done: str) -> HttpResponse:
    round = _round(request, pk, city=True)
    if not hasattr(round, "circular"):
        raise Http404
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_circular(request, round, decision=form, status=400)
    d = form.cleaned_data
    try:
        run(round, d["version"], d["note"])
    except (services.Changed, NotAllowed) as exc:
        fresh = _round(request, pk, city=True)
        status = 409 if isinstance(exc, services.Changed) else 400
        return _render_circular(request, fresh, status=status, error=str(exc))
    except ValidationError as exc:
        add_errors(form, exc)
        return _render_circular(request, round, decision=form, status=400)
    messages.success(request, done)
    return redirect("evaluation:circular", pk=pk)


@require_POST
def round_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(
        request,
        pk,
        lambda r, v, note: services.round_submit(actor=request.user, round=r, version=v),
        "汇总和通报草稿已报送市委。",
    )


@require_POST
def round_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(
        request,
        pk,
        lambda r, v, note: services.round_return(actor=request.user, round=r, version=v, note=note),
        "已记录市委的修改意见，通报退回修改。",
    )


@require_POST
def round_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(
        request,
        pk,
        lambda r, v, note: services.round_approve(
            actor=request.user, round=r, version=v, note=note
        ),
        "已记录市委同意，通报已在全市印发，本年度评估关闭。",
    )


@require_GET
def circular_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    round = _circular_round(request, pk)
    context = {
        "round": round,
        "circular": round.circular,
        "summary": summary_of(round),
        "criteria": Criterion.labels,
        "ratings": RATING_LABELS,
        "paragraphs": [p for p in round.circular.body.split("\n\n") if p.strip()],
    }
    data = render_pdf("documents/evaluation_circular.html", context, request)
    audit.record(AuditAction.EXPORT, round, detail="PDF：年度通报")
    return pdf_response(data, f"{round.year}年度通报.pdf")


@require_GET
def circular_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    round = _circular_round(request, pk)
    data = circular_workbook(round, summary_of(round))
    audit.record(AuditAction.EXPORT, round, detail="Excel：年度通报附表")
    return xlsx_response(data, f"{round.year}年度通报附表.xlsx")
