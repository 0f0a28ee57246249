"""The words of every alert: Bahasa Indonesia by default, English per channel, times in WIB.

A message is rendered once, when its notification is stored, so the delivery log shows exactly
what was sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, reverse

from linda.alerts import conf
from linda.alerts.models import Incident, IncidentSite, NotificationKind
from linda.alerts.selectors import DailySummary, PowerRisk
from linda.domain.alerting import Kind
from linda.registry.models import Site

WIB = ZoneInfo("Asia/Jakarta")
MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
LISTED_SITES = 40  # longer incidents list the first ones and a count

T: dict[str, dict[str, str]] = {
    "id": {
        "down": "MATI", "up": "PULIH", "upstream": "GANGGUAN HULU", "flap_title": "TIDAK STABIL",
        "stable": "STABIL", "gap": "PEMANTAUAN TERPUTUS", "gap_done": "PEMANTAUAN PULIH",
        "suspect": "DICURIGAI GANGGUAN PEMANTAU/HULU", "suspect_done": "GANGGUAN MASSAL SELESAI",
        "update": "BERTAMBAH", "escalate": "ESKALASI tingkat {level}", "remind": "PENGINGAT",
        "test": "UJI KANAL",
        "site_down": "Situs {site} ({place}) tidak terhubung sejak {since}.",
        "site_up": "Situs {site} ({place}) terhubung kembali {at} setelah {duration} "
                   "(mati sejak {since}).",
        "upstream_open": "{n} situs vendor {vendor} mati hampir bersamaan sejak {since}. "
                         "Dugaan: gangguan hulu/satelit vendor, bukan {n} gangguan terpisah.",
        "upstream_done": "Semua {n} situs vendor {vendor} terhubung kembali {at}; gangguan "
                         "berlangsung {duration} (sejak {since}).",
        "flap": "Situs {site} ({place}) naik-turun {flips} kali dalam {window}. Notifikasi "
                "situs ini ditahan sampai stabil.",
        "stable_now": "Situs {site} ({place}) stabil kembali; status sekarang: {state}.",
        "gap_open": "Server pemantau tidak mencatat cakupan sejak {since}. Status semua situs "
                    "selama jeda ini TIDAK DIKETAHUI; tidak ada notifikasi ke penerima situs.",
        "gap_done_body": "Pemantauan sempat terputus dari {since} sampai {at} ({duration}). "
                         "Rentang itu TIDAK DIKETAHUI untuk semua situs, tidak dihitung dalam "
                         "SLA, dan tidak dikirim ke penerima situs.",
        "suspect_open": "{n} dari {total} situs ({pct}%) berhenti mengirim heartbeat hampir "
                        "bersamaan sejak {since}. Dicurigai gangguan server pemantau atau "
                        "jaringan hulu bersama; penerima situs TIDAK diberi tahu. Periksa "
                        "server pemantau, listrik dan jaringan hulu.",
        "suspect_done_body": "Semua {n} situs terhubung kembali {at} ({duration}).",
        "grew": "Bertambah menjadi {n} situs.",
        "cause": "Dugaan penyebab: {cause}",
        "vendor": "Vendor: {vendor}",
        "sites": "Situs terdampak:",
        "more": "…dan {n} situs lainnya",
        "page": "Halaman situs: {url}",
        "ack": "Akui: {url}",
        "unacked": "Belum diakui setelah {duration}.",
        "test_body": "Pesan uji dari Linda untuk kanal {channel}, {at}.",
        "kec": "Kec.",
    },
    "en": {
        "down": "DOWN", "up": "RECOVERED", "upstream": "UPSTREAM OUTAGE", "flap_title": "FLAPPING",
        "stable": "STABLE", "gap": "MONITORING INTERRUPTED", "gap_done": "MONITORING RESUMED",
        "suspect": "MONITOR/UPSTREAM SUSPECTED", "suspect_done": "MASS OUTAGE OVER",
        "update": "GROWING", "escalate": "ESCALATION level {level}", "remind": "REMINDER",
        "test": "CHANNEL TEST",
        "site_down": "Site {site} ({place}) has been unreachable since {since}.",
        "site_up": "Site {site} ({place}) is back at {at} after {duration} (down since {since}).",
        "upstream_open": "{n} sites of vendor {vendor} went down together since {since}. "
                         "Probably one upstream/satellite outage, not {n} separate ones.",
        "upstream_done": "All {n} sites of vendor {vendor} are back at {at}; the outage lasted "
                         "{duration} (since {since}).",
        "flap": "Site {site} ({place}) changed state {flips} times within {window}. Alerts for "
                "this site are held until it is stable.",
        "stable_now": "Site {site} ({place}) is stable again; it is now {state}.",
        "gap_open": "The monitor has recorded no coverage since {since}. Every site's status "
                    "during this gap is UNKNOWN; site recipients are not notified.",
        "gap_done_body": "Monitoring was interrupted from {since} to {at} ({duration}). That "
                         "time is UNKNOWN for every site, outside the SLA, and was not sent to "
                         "site recipients.",
        "suspect_open": "{n} of {total} sites ({pct}%) stopped sending heartbeats together "
                        "since {since}. The monitor or a shared upstream is suspected; site "
                        "recipients were NOT notified. Check the monitor server, power and "
                        "upstream network.",
        "suspect_done_body": "All {n} sites are back at {at} ({duration}).",
        "grew": "Now {n} sites.",
        "cause": "Probable cause: {cause}",
        "vendor": "Vendor: {vendor}",
        "sites": "Affected sites:",
        "more": "…and {n} more sites",
        "page": "Site page: {url}",
        "ack": "Acknowledge: {url}",
        "unacked": "Not acknowledged after {duration}.",
        "test_body": "Test message from Linda for channel {channel}, {at}.",
        "kec": "Kec.",
    },
}

STATES = {
    "id": {"up": "AKTIF", "down": "MATI", "unknown": "TIDAK DIKETAHUI",
           "excluded": "PEMELIHARAAN"},
    "en": {"up": "UP", "down": "DOWN", "unknown": "UNKNOWN", "excluded": "MAINTENANCE"},
}
CAUSES = {
    "id": {"unknown": "belum diketahui", "link": "jaringan/tautan", "power": "listrik",
           "upstream": "gangguan hulu vendor", "monitor": "pemantauan", "sweep": "belum diketahui"},
    "en": {"unknown": "not yet known", "link": "link", "power": "power",
           "upstream": "vendor upstream outage", "monitor": "monitoring",
           "sweep": "not yet known"},
}
UNITS = {"id": ("hari", "jam", "menit", "detik"), "en": ("d", "h", "min", "s")}


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    notify_type: str  # an Apprise NotifyType value


def wib(at: datetime, lang: str = "id") -> str:
    local = at.astimezone(WIB)
    return f"{local.day} {MONTHS[lang][local.month - 1]} {local.year} {local:%H:%M} WIB"


def duration(span: timedelta, lang: str = "id") -> str:
    total = max(0, int(span.total_seconds()))
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    units = UNITS[lang]
    parts = [f"{v} {u}" for v, u in zip((d, h, m), units[:3], strict=True) if v]
    return " ".join(parts[:2]) if parts else f"{s} {units[3]}"


def _link(name: str, arg: str) -> str:
    try:
        path = reverse(name, args=[arg])
    except NoReverseMatch:
        return ""
    return conf.public_url() + path


def ack_url(incident: Incident) -> str:
    return _link("alerts:ack", incident.ack_token)


def _place(member: IncidentSite, lang: str) -> str:
    village = member.site.village
    kec = village.parent.name if village.parent is not None else ""
    return f"{village.name}, {T[lang]['kec']} {kec}" if kec else village.name


def _site_line(member: IncidentSite, lang: str) -> str:
    return f"- {member.site.code} ({_place(member, lang)}) {wib(member.down_at, lang)}"


def _listing(members: Sequence[IncidentSite], lang: str) -> list[str]:
    lines = [T[lang]["sites"], *(_site_line(m, lang) for m in members[:LISTED_SITES])]
    if len(members) > LISTED_SITES:
        lines.append(T[lang]["more"].format(n=len(members) - LISTED_SITES))
    return lines


def _footer(incident: Incident, members: Sequence[IncidentSite], lang: str) -> list[str]:
    lines = []
    if len(members) == 1:
        page = _link("web:site", members[0].site.code)
        if page:
            lines.append(T[lang]["page"].format(url=page))
    ack = ack_url(incident)
    if ack and incident.closed_at is None:
        lines.append(T[lang]["ack"].format(url=ack))
    return lines


def render(
    incident: Incident,
    members: Sequence[IncidentSite],
    *,
    kind: str,
    lang: str,
    now: datetime,
    level: int = 0,
    total_sites: int = 0,
    flips: int = 0,
    state: str = "",
) -> Message:
    """The message of `kind` (a NotificationKind) about `incident`, in `lang`."""
    t = T[lang]
    closing = kind == NotificationKind.CLOSE
    title, lines, notify_type = _core(incident, members, t=t, lang=lang, closing=closing,
                                      total_sites=total_sites, flips=flips, state=state)
    if kind == NotificationKind.UPDATE:
        title = f"{t['update']}: {title}"
        lines.insert(0, t["grew"].format(n=len(members)))
    elif kind in (NotificationKind.ESCALATE, NotificationKind.REMIND):
        prefix = t["escalate"].format(level=level) if kind == NotificationKind.ESCALATE \
            else t["remind"]
        title = f"[{prefix}] {title}"
        since = incident.announced_at or incident.opened_at
        lines.insert(0, t["unacked"].format(duration=duration(now - since, lang)))
    return Message(title[:250], "\n".join([*lines, *_footer(incident, members, lang)]),
                   notify_type)


def _core(
    incident: Incident, members: Sequence[IncidentSite], *, t: dict[str, str], lang: str,
    closing: bool, total_sites: int, flips: int, state: str,
) -> tuple[str, list[str], str]:
    def s(key: str, **kw: object) -> str:
        return t[key].format(**kw)

    since = wib(incident.opened_at, lang)
    end = incident.closed_at
    at = wib(end, lang) if end else ""
    took = duration(end - incident.opened_at, lang) if end else ""
    cause = s("cause", cause=CAUSES[lang].get(incident.cause, incident.cause))
    kind = incident.kind
    if kind == Kind.SITE_DOWN:
        m = members[0]
        name, place = m.site.village.name, _place(m, lang)
        if closing:
            return (f"{s('up')}: {name}",
                    [s("site_up", site=m.site.code, place=place, at=at, duration=took,
                       since=since)], "success")
        vendor = ", ".join(sorted({c.vendor.name for c in m.site.contracts.all()}))
        lines = [s("site_down", site=m.site.code, place=place, since=since), cause]
        if vendor:
            lines.insert(1, s("vendor", vendor=vendor))
        return f"{s('down')}: {name}", lines, "failure"
    if kind == Kind.UPSTREAM:
        vendor = incident.vendor.name if incident.vendor else "?"
        n = len(members)
        if closing:
            return (f"{s('up')}: {s('upstream')} {vendor}",
                    [s("upstream_done", n=n, vendor=vendor, at=at, duration=took, since=since)],
                    "success")
        return (f"{s('upstream')}: {n} situs {vendor}" if lang == "id"
                else f"{s('upstream')}: {n} sites of {vendor}",
                [s("upstream_open", n=n, vendor=vendor, since=since), *_listing(members, lang)],
                "failure")
    if kind == Kind.FLAPPING:
        m = members[0]
        name, place = m.site.village.name, _place(m, lang)
        if closing:
            return (f"{s('stable')}: {name}",
                    [s("stable_now", site=m.site.code, place=place,
                       state=STATES[lang].get(state, state))], "info")
        window = duration(conf.flap_policy().window, lang)
        return (f"{s('flap_title')}: {name}",
                [s("flap", site=m.site.code, place=place, flips=flips, window=window)],
                "warning")
    if kind == Kind.MONITOR_GAP:
        if closing:
            return (s("gap_done"), [s("gap_done_body", since=since, at=at, duration=took)],
                    "success")
        return s("gap"), [s("gap_open", since=since)], "failure"
    n = len(members)
    if closing:
        return (s("suspect_done"), [s("suspect_done_body", n=n, at=at, duration=took)],
                "success")
    pct = round(100 * n / total_sites) if total_sites else 100
    return (f"{s('suspect')}: {n}/{total_sites}",
            [s("suspect_open", n=n, total=total_sites, pct=pct, since=since),
             *_listing(members, lang)], "failure")


def render_test(channel_name: str, *, lang: str, now: datetime) -> Message:
    t = T[lang]
    return Message(f"{t['test']}: {channel_name}",
                   t["test_body"].format(channel=channel_name, at=wib(now, lang)), "info")


# --- the daily summary and the battery forecast -----------------------------------------------

DAYS = {
    "id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
CAUSE_ORDER = ("upstream", "power", "link", "unknown")
S: dict[str, dict[str, str]] = {
    "id": {
        "summary": "RINGKASAN HARIAN",
        "now": "Saat ini ({at}): {up} aktif, {down} mati, {unknown} tidak diketahui, "
               "{excluded} pemeliharaan, dari {n} situs dipantau.",
        "avail": "Ketersediaan {day}: {pct} ({n} situs; total waktu mati {down}).",
        "avail_none": "Ketersediaan {day}: tidak ada data.",
        "outages": "Gangguan {day}: {n} ({parts}).",
        "no_outages": "Gangguan {day}: tidak ada.",
        "per_vendor": "Per vendor: {parts}.",
        "worst": "Situs terburuk {day}:",
        "worst_line": "- {site} ({place}): {pct}, mati {down}, {n} gangguan",
        "no_worst": "Tidak ada situs yang mati {day}.",
        "open": "Insiden terbuka: {n}",
        "open_line": "- {kind}: {what} sejak {since}",
        "open_sites": "{n} situs",
        "rollout": "Pembangunan: {x} dari {n} desa prioritas terhubung ({pct}).",
        "yesterday": "kemarin",
        "power_title": "AKAN PADAM MALAM INI",
        "power_body": "Baterai situs {site} ({place}) tinggal {soc}% (dilaporkan {at}). "
                      "Perkiraan pesimistis (1 dari 10 kemungkinan cuaca lebih buruk): listrik "
                      "habis sekitar {dark}, {hours} sebelum matahari terbit ({sunrise}).",
        "power_p50": "Perkiraan tengah: habis sekitar {dark}.",
        "power_p50_ok": "Perkiraan tengah: bertahan sampai pagi.",
        "power_kit": "Baterai {wh} Wh, panel surya {wp} Wp.",
        "power_do": "Periksa listrik PLN/genset atau kurangi beban malam ini.",
    },
    "en": {
        "summary": "DAILY SUMMARY",
        "now": "Now ({at}): {up} up, {down} down, {unknown} unknown, {excluded} in "
               "maintenance, of {n} monitored sites.",
        "avail": "Availability {day}: {pct} ({n} sites; {down} down in total).",
        "avail_none": "Availability {day}: no data.",
        "outages": "Outages {day}: {n} ({parts}).",
        "no_outages": "Outages {day}: none.",
        "per_vendor": "Per vendor: {parts}.",
        "worst": "Worst sites {day}:",
        "worst_line": "- {site} ({place}): {pct}, down {down}, {n} outages",
        "no_worst": "No site was down {day}.",
        "open": "Open incidents: {n}",
        "open_line": "- {kind}: {what} since {since}",
        "open_sites": "{n} sites",
        "rollout": "Rollout: {x} of {n} priority villages connected ({pct}).",
        "yesterday": "yesterday",
        "power_title": "WILL GO DARK TONIGHT",
        "power_body": "The battery of site {site} ({place}) is at {soc}% (reported {at}). "
                      "Pessimistic forecast (1 weather scenario in 10 is worse): power runs out "
                      "around {dark}, {hours} before sunrise ({sunrise}).",
        "power_p50": "Middle forecast: runs out around {dark}.",
        "power_p50_ok": "Middle forecast: lasts until morning.",
        "power_kit": "Battery {wh} Wh, solar panels {wp} Wp.",
        "power_do": "Check PLN/generator power or reduce tonight's load.",
    },
}
KIND_TITLES = {
    "id": {Kind.SITE_DOWN: "MATI", Kind.UPSTREAM: "GANGGUAN HULU", Kind.FLAPPING: "TIDAK STABIL",
           Kind.MONITOR_GAP: "PEMANTAUAN TERPUTUS", Kind.MONITOR_SUSPECT: "GANGGUAN MASSAL"},
    "en": {Kind.SITE_DOWN: "DOWN", Kind.UPSTREAM: "UPSTREAM OUTAGE", Kind.FLAPPING: "FLAPPING",
           Kind.MONITOR_GAP: "MONITORING INTERRUPTED", Kind.MONITOR_SUSPECT: "MASS OUTAGE"},
}


def percent(share: Fraction | None, lang: str = "id") -> str:
    """A share as a percentage with two decimals, rounded down (99.999 % is not 100 %)."""
    if share is None:
        return "—"
    hundredths = math.floor(share * 10000)
    whole, rest = divmod(hundredths, 100)
    return f"{whole}{',' if lang == 'id' else '.'}{rest:02d}%"


def day_name(day: date, lang: str) -> str:
    return f"{DAYS[lang][day.weekday()]}, {day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def site_place(site: Site, lang: str) -> str:
    village = site.village
    kec = village.parent.name if village.parent is not None else ""
    return f"{village.name}, {T[lang]['kec']} {kec}" if kec else village.name


def render_summary(summary: DailySummary, *, lang: str) -> Message:
    """The head of office's morning message about `summary.day`."""
    t = S[lang]
    yesterday = t["yesterday"]
    states = summary.states_now
    lines = [t["now"].format(at=wib(summary.now, lang), up=states.get("up", 0),
                             down=states.get("down", 0), unknown=states.get("unknown", 0),
                             excluded=states.get("excluded", 0), n=sum(states.values()))]
    if summary.availability is None:
        lines.append(t["avail_none"].format(day=yesterday))
    else:
        lines.append(t["avail"].format(day=yesterday, pct=percent(summary.availability, lang),
                                       n=len(summary.sites),
                                       down=duration(timedelta(seconds=summary.down_s), lang)))
    causes = summary.outages_by_cause
    if summary.outages:
        parts = ", ".join(f"{CAUSES[lang].get(c, c)} {causes.get(c, 0)}" for c in
                          [*CAUSE_ORDER, *sorted(set(causes) - set(CAUSE_ORDER))])
        lines.append(t["outages"].format(day=yesterday, n=summary.outages, parts=parts))
    else:
        lines.append(t["no_outages"].format(day=yesterday))
    if len(summary.per_vendor) > 1:
        lines.append(t["per_vendor"].format(parts="; ".join(
            f"{name} {percent(share, lang)}" for name, share in summary.per_vendor)))
    worst = summary.worst
    if worst:
        lines.append(t["worst"].format(day=yesterday))
        for s in worst:
            place = f"{s.village}, {T[lang]['kec']} {s.kecamatan}" if s.kecamatan else s.village
            lines.append(t["worst_line"].format(
                site=s.code, place=place, pct=percent(s.availability, lang),
                down=duration(timedelta(seconds=s.down_s), lang), n=s.outages))
    else:
        lines.append(t["no_worst"].format(day=yesterday))
    lines.append(t["open"].format(n=len(summary.open_incidents)))
    for inc in summary.open_incidents[:LISTED_SITES]:
        what = inc.first_village if inc.sites == 1 else t["open_sites"].format(n=inc.sites)
        lines.append(t["open_line"].format(kind=KIND_TITLES[lang].get(Kind(inc.kind), inc.kind),
                                           what=what, since=wib(inc.opened_at, lang)))
    if summary.rollout is not None and summary.rollout[1]:
        x, n = summary.rollout
        lines.append(t["rollout"].format(x=x, n=n, pct=percent(Fraction(x, n), lang)))
    title = f"{t['summary']}: {day_name(summary.day, lang)}"
    notify = "warning" if states.get("down", 0) or summary.open_incidents else "info"
    return Message(title[:250], "\n".join(lines), notify)


def render_power_risk(risk: PowerRisk, *, lang: str, now: datetime, sunrise: datetime) -> Message:
    """"Will go dark tonight" for one site, from its battery forecast."""
    t = S[lang]
    site = risk.site
    hours_p10 = risk.hours_p10 or 0.0
    early = timedelta(hours=risk.hours_to_sunrise - hours_p10)
    lines = [t["power_body"].format(
        site=site.code, place=site_place(site, lang), soc=round(risk.soc_pct),
        at=wib(risk.measured_at, lang), dark=wib(now + timedelta(hours=hours_p10), lang),
        hours=duration(early, lang), sunrise=wib(sunrise, lang))]
    if risk.hours_p50 is not None and risk.hours_p50 < risk.hours_to_sunrise:
        lines.append(t["power_p50"].format(dark=wib(now + timedelta(hours=risk.hours_p50),
                                                    lang)))
    else:
        lines.append(t["power_p50_ok"])
    lines.append(t["power_kit"].format(wh=site.battery_wh or 0, wp=site.solar_pv_wp or 0))
    lines.append(t["power_do"])
    page = _link("web:site", site.code)
    if page:
        lines.append(T[lang]["page"].format(url=page))
    return Message(f"{t['power_title']}: {site.village.name}"[:250], "\n".join(lines), "warning")
