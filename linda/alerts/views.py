"""Acknowledging an incident from the link in its message.

The link's token is the authority (it was sent only to the incident's recipients). A GET only
shows the incident and a button: chat apps fetch links for previews, and a preview must never
acknowledge anything. The POST acknowledges.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from linda.alerts.selectors import get_incident_by_token, members_of
from linda.alerts.services import acknowledge_incident


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    incident = get_incident_by_token(token)
    if incident is None:
        raise Http404("unknown incident")
    done = False
    if request.method == "POST":
        done = acknowledge_incident(incident=incident, user=request.user,
                                    name=request.POST.get("name", ""))
        incident.refresh_from_db()
    return render(request, "alerts/ack.html", {
        "incident": incident, "members": members_of(incident), "done": done,
    })
