from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, FloatField, Q
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from linda.accounts.selectors import allowed_transition_targets, can_edit_registry
from linda.domain.lifecycle import ALLOWED_TRANSITIONS, Stage
from linda.domain.status import outages
from linda.monitoring.routeros import linux_oneliner, routeros_script
from linda.monitoring.selectors import current_states
from linda.monitoring.services import issue_site_key
from linda.registry.models import VILLAGE_LEVELS, Responsibility
from linda.registry.selectors import (
    list_kecamatan,
    visible_contracts,
    visible_sites,
    visible_villages,
)
from linda.rollout.models import STAGE_CHOICES, STAGE_LABELS, BudgetLine, PriorityVillage
from linda.rollout.selectors import (
    get_burndown,
    get_main_program,
    get_progress,
    list_priority_villages,
)
from linda.rollout.services import transition_village
from linda.sla.models import CauseChoice
from linda.sla.outages import recent_outages
from linda.web.causes import downtime_by_cause
from linda.web.forms import TransitionForm
from linda.web.selectors import (
    WIB,
    daily_bars,
    fleet_summary,
    hourly_metric_series,
    metric_series,
    night_outlook,
    period_availability,
    public_village_rows,
    site_history,
    site_rows,
    timeline,
    to_site_row,
)

STATUS_LABELS = {
    "up": _("online"),
    "down": _("putus"),
    "unknown": _("tidak diketahui"),
    "excluded": _("pemeliharaan"),
    "": _("belum dipantau"),
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    program = get_main_program()
    today = timezone.localdate()
    progress = get_progress(program, today=today) if program is not None else None
    kecamatan = list_kecamatan().annotate(
        n_villages=Count("children", filter=Q(children__level__in=VILLAGE_LEVELS))
    )
    return render(
        request,
        "web/dashboard.html",
        {
            "program": program,
            "progress": progress,
            "stages": STAGE_CHOICES,
            "kecamatan": kecamatan,
            "kecamatan_count": kecamatan.count(),
            "village_count": visible_villages(request.user).count(),
            "fleet": fleet_summary(request.user, now=timezone.now(), today=today),
            "status_labels": STATUS_LABELS,
        },
    )


@login_required
def dashboard_causes(request: HttpRequest) -> HttpResponse:
    """The dashboard's downtime-by-cause card, loaded after the page (see linda.web.causes)."""
    now = timezone.now()
    month_start = datetime.combine(timezone.localdate().replace(day=1), time(0), tzinfo=WIB)
    shares = downtime_by_cause(request.user, month_start=month_start, now=now)
    return render(request, "web/_causes.html", {"shares": shares,
                                                "total_s": sum(s.down_s for s in shares)})


@login_required
def rollout(request: HttpRequest) -> HttpResponse:
    program = get_main_program()
    rows = list(list_priority_villages(request.user, program)) if program is not None else []
    targets = allowed_transition_targets(request.user)
    lines = list(BudgetLine.objects.filter(program=program)) if program is not None else []
    forms = {
        pv.pk: TransitionForm(priority=pv, targets=targets, budget_lines=lines,
                              prefix=f"pv{pv.pk}")
        for pv in rows
        if any(s in targets for s in ALLOWED_TRANSITIONS[Stage(pv.stage)])
    }
    context: dict[str, object] = {
        "program": program, "rows": [(pv, forms.get(pv.pk)) for pv in rows],
        "stages": STAGE_CHOICES,
    }
    if program is not None:
        today = timezone.localdate()
        context["progress"] = get_progress(program, today=today)
        context["burndown"] = get_burndown(program, today=today)
    return render(request, "web/rollout.html", context)


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_main_program()
    if program is None:
        raise PermissionDenied
    priority = get_object_or_404(list_priority_villages(request.user, program), pk=pk)
    targets = allowed_transition_targets(request.user)
    form = TransitionForm(request.POST, priority=priority, targets=targets, prefix=f"pv{pk}",
                          budget_lines=list(BudgetLine.objects.filter(program=program)))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{priority.village.name} — {field}: {' '.join(errors)}")
        return redirect("web:rollout")
    data = form.cleaned_data
    try:
        transition_village(
            actor=request.user, priority=priority, to_stage=Stage(data["to_stage"]),
            effective_on=data["effective_on"], budget_line=data["budget_line"],
            bast_number=data["bast_number"], bast_date=data["bast_date"], note=data["note"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            messages.error(request, f"{priority.village.name} — {field}: {' '.join(errors)}")
    else:
        messages.success(request, f"{priority.village.name}: {priority.get_stage_display()}")
    return redirect("web:rollout")


@login_required
def site_map(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/map.html",
        {
            "kecamatan": list_kecamatan(),
            "stages": STAGE_CHOICES,
            "statuses": [(k, v) for k, v in STATUS_LABELS.items() if k],
        },
    )


@login_required
def map_data(request: HttpRequest) -> JsonResponse:
    """Every visible site with its place, stage and live status, for the map. Built straight
    from the rows of one query (no per-site objects or URL reversing: 10,000 sites)."""
    site_url = reverse("web:site", args=["0"])[:-2]
    status_labels = {k: str(v) for k, v in STATUS_LABELS.items()}
    stage_labels = {k: str(STAGE_LABELS[Stage(k)]) for k in Stage} | {"": ""}
    rows = site_rows(request.user).annotate(
        lat=Cast(Coalesce("latitude", "village__latitude"), FloatField()),
        lon=Cast(Coalesce("longitude", "village__longitude"), FloatField()),
    ).values_list("code", "village__name", "village__parent__name", "village__parent__code",
                  "lat", "lon", "stage", "monitoring_state__state")
    sites = [
        {
            "code": code, "village": village, "kecamatan": kecamatan or "",
            "kecamatan_code": kecamatan_code or "", "lat": lat, "lon": lon,
            "stage": stage or "", "stage_label": stage_labels[stage or ""],
            "status": status or "", "status_label": status_labels[status or ""],
            "url": f"{site_url}{code}/",
        }
        for code, village, kecamatan, kecamatan_code, lat, lon, stage, status in rows
    ]
    return JsonResponse({"sites": sites})


# --- sites ------------------------------------------------------------------------------------

PAGE_SIZE = 50


@login_required
def site_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "").strip() for k in
               ("q", "kecamatan", "stage", "status", "sort")}
    filters["sort"] = filters["sort"] or "code"
    paginator = Paginator(site_rows(request.user, **filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "rows": [to_site_row(values) for values in page.object_list], "page": page,
        "kecamatan": list_kecamatan(), "stages": STAGE_CHOICES,
        "statuses": [(k, v) for k, v in STATUS_LABELS.items() if k],
        "status_labels": STATUS_LABELS, "query": request.GET,
        "query_string": query.urlencode(),
    }
    template = "web/_site_rows.html" if request.headers.get("HX-Request") else "web/sites.html"
    return render(request, template, context)


@login_required
def site_detail(request: HttpRequest, code: str) -> HttpResponse:
    site = get_object_or_404(visible_sites(request.user), code=code)
    now = timezone.now()
    today = timezone.localdate()
    since_90 = datetime.combine(today - timedelta(days=89), time(0), tzinfo=WIB)
    history = site_history(site, since_90, now, now)
    state = current_states([site.pk]).get(site.pk, ("", ""))
    # Counted from the intervals here; attributed (cause, responsibility, evidence) by the
    # outages card, loaded after the page: attribution reads the evidence of every outage.
    outage_count = sum(1 for run in outages(history) if run.end > now - timedelta(days=30))
    month_start = datetime.combine(today.replace(day=1), time(0), tzinfo=WIB)
    context = {
        "site": site,
        "status": state[0],
        "status_label": STATUS_LABELS[state[0]],
        "status_since": datetime.fromisoformat(state[1]) if state[1] else None,
        "timeline_24h": timeline(history, now - timedelta(hours=24), now),
        "timeline_7d": timeline(history, now - timedelta(days=7), now),
        "bars_90": daily_bars(history, days=90, today=today),
        "availability_30": period_availability(history, now - timedelta(days=30), now),
        "availability_month": period_availability(history, month_start, now),
        "outage_count": outage_count,
        "equipment": site.equipment.all(),
        "contracts": visible_contracts(request.user).filter(sites=site),
        "priority": PriorityVillage.objects.filter(village=site.village).first(),
        "can_onboard": can_edit_registry(request.user),
        "night": night_outlook(site, now=now),
    }
    return render(request, "web/site.html", context)


@login_required
def site_outages(request: HttpRequest, code: str) -> HttpResponse:
    """The site page's outages of the last 30 days with cause, responsibility and evidence,
    by the SLA report's rules (linda.sla.outages); loaded after the page (htmx)."""
    site = get_object_or_404(visible_sites(request.user), code=code)
    now = timezone.now()
    since_31 = now - timedelta(days=31)
    history = site_history(site, since_31, now, now)
    state = current_states([site.pk]).get(site.pk, ("", ""))
    recent = recent_outages(site, start=now - timedelta(days=30), end=now, now=now,
                            intervals=history)
    return render(request, "web/_outages.html", {"outages": [
        # The newest outage is still under way while the live state says DOWN.
        {"start": o.start, "end": o.end, "duration_s": int(o.duration.total_seconds()),
         "open": state[0] == "down" and n == 0, "cause": CauseChoice(o.cause).label,
         "responsibility": Responsibility(o.responsibility).label,
         "evidence": o.evidence, "overridden": o.overridden}
        for n, o in enumerate(recent)
    ]})


@login_required
def site_metrics(request: HttpRequest, code: str) -> JsonResponse:
    site = get_object_or_404(visible_sites(request.user), code=code)
    if request.GET.get("range") == "7d":  # one point per hour; per heartbeat for 24 h
        since = timezone.now() - timedelta(days=7)
        return JsonResponse(hourly_metric_series(site, since=since))
    return JsonResponse(metric_series(site, since=timezone.now() - timedelta(hours=24)))


@login_required
@require_POST
def site_onboard(request: HttpRequest, code: str) -> HttpResponse:
    if not can_edit_registry(request.user):
        raise PermissionDenied
    site = get_object_or_404(visible_sites(request.user), code=code)
    key = issue_site_key(site)
    base = request.build_absolute_uri("/").rstrip("/")
    boot_base = int(timezone.now().timestamp())
    return render(request, "web/onboard.html", {
        "site": site, "key": key, "base": base,
        "routeros_v7": routeros_script(url=base, key=key, site_code=site.code,
                                       boot_base=boot_base),
        "routeros_v6": routeros_script(url=base, key=key, site_code=site.code,
                                       boot_base=boot_base, v6=True),
        "linux": linux_oneliner(url=base, key=key),
    })


# --- public status page ----------------------------------------------------------------------


@cache_control(public=True, max_age=60)
@vary_on_headers("Accept-Language", "Cookie")
def public_status(request: HttpRequest) -> HttpResponse:
    """No login: each connected village, its status now, 30- and 90-day availability and the
    incidents under way. No keys, addresses, coordinates or personal data."""
    now = timezone.now()
    rows = public_village_rows(now=now, today=timezone.localdate())
    counts = {state: sum(1 for r in rows if r.status == state) for state in STATUS_LABELS}
    return render(request, "web/public.html", {
        "rows": rows, "counts": counts, "status_labels": STATUS_LABELS,
        "incidents": [r for r in rows if r.status == "down"], "generated_at": now,
        "program": get_main_program(),
    })
