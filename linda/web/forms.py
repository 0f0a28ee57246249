from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linda.domain.lifecycle import ALLOWED_TRANSITIONS, Stage
from linda.rollout.models import STAGE_LABELS, BudgetLine, PriorityVillage


class TransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Tahap baru"))
    effective_on = forms.DateField(
        label=_("Tanggal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    budget_line = forms.TypedChoiceField(
        label=_("Mata anggaran"), coerce=int, required=False, empty_value=None
    )
    bast_number = forms.CharField(label=_("Nomor BAST"), max_length=80, required=False)
    bast_date = forms.DateField(
        label=_("Tanggal BAST"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Catatan"), max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        priority: PriorityVillage,
        targets: frozenset[Stage],
        budget_lines: list[BudgetLine],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        nexts = [s for s in ALLOWED_TRANSITIONS[Stage(priority.stage)] if s in targets]
        field = self.fields["to_stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.value, STAGE_LABELS[s]) for s in nexts]
        budget = self.fields["budget_line"]
        assert isinstance(budget, forms.TypedChoiceField)
        budget.choices = [("", "—")] + [
            (line.pk, line.code) for line in budget_lines if line.program_id == priority.program_id
        ]
        self.budget_lines = {line.pk: line for line in budget_lines}

    def clean_budget_line(self) -> BudgetLine | None:
        pk = self.cleaned_data.get("budget_line")
        return self.budget_lines[pk] if pk is not None else None
