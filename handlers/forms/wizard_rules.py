"""Rules that span several answers, declared in the form beside the step they concern, checked here.

In a form file a step may carry::

    rules:
      - check: not_same_as            # a name from RULE_CHECKS below
        steps: [chair, board]         # anything else is a parameter of the check
        article: điểm b khoản 1 Điều 62 Luật HTX 2023
        message: "{names} đã ở Hội đồng quản trị … Bạn chọn người khác."

A rule is checked when the answer of its step is given (for a list: when the list is closed), against
the answers given so far, and all rules again on the summary. A broken rule refuses the answer with its
message and article. `kind: inform` rules do not refuse: they tell the user something that follows from
the answers (which THT procedure applies), with `messages:` keyed by the case the check reports.
Each check returns None when the rule holds, else the facts its message is formatted with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from handlers.forms.wizard_form import Form, Rule, Step

Facts = dict[str, Any]
Check = Callable[[Any, Mapping[str, Any], Rule, Form], Facts | None]


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def names_of(value: Any) -> list[str]:
    """The person names in an answer: one name (choice) or several (multi-choice)."""
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


def _records(answers: Mapping[str, Any], rule: Rule) -> list[dict[str, Any]]:
    return list(answers.get(str(rule.params.get("records", "members"))) or [])


def _amount(record: Mapping[str, Any], rule: Rule) -> int:
    value = record.get(str(rule.params.get("field", "contribution")))
    return value if isinstance(value, int) else 0


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]


def equals_total(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """The declared figure equals the sum of a field over a list (charter capital = members' total)."""
    records = _records(answers, rule)
    total = sum(_amount(r, rule) for r in records)
    if not records or not isinstance(value, int) or value == total:
        return None
    return {"value": money(value), "total": money(total)}


def each_share_at_most(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """No record's amount (of the records whose `role_field` is `role`, if given) above `max_share` of the total."""
    records = value if isinstance(value, list) else _records(answers, rule)
    total = sum(_amount(r, rule) for r in records)
    limit = float(rule.params["max_share"])
    role_field, role = str(rule.params.get("role_field", "role")), rule.params.get("role")
    checked = [r for r in records if role is None or r.get(role_field, "official") == role]
    over = [r for r in checked if total and _amount(r, rule) > total * limit]
    if not over:
        return None
    worst = max(over, key=lambda r: _amount(r, rule))
    return {"names": _joined([str(r.get("name")) for r in over]), "name": worst.get("name"),
            "amount": money(_amount(worst, rule)), "share": _percent(_amount(worst, rule), total),
            "total": money(total), "cap": money(int(total * limit)), "limit": f"{round(limit * 100)}%"}


def group_share_at_most(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """The records whose `role_field` is `role`, together, not above `max_share` of the total."""
    records = value if isinstance(value, list) else _records(answers, rule)
    total = sum(_amount(r, rule) for r in records)
    role_field, role = str(rule.params.get("role_field", "role")), rule.params["role"]
    group = sum(_amount(r, rule) for r in records if r.get(role_field) == role)
    limit = float(rule.params["max_share"])
    if not total or group <= total * limit:
        return None
    return {"amount": money(group), "share": _percent(group, total), "total": money(total),
            "limit": f"{round(limit * 100)}%"}


def _percent(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}%".replace(".", ",")


def count_at_least(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """At least `min` distinct names in this answer together with the names of `with_steps`."""
    names = set(names_of(value))
    for key in rule.params.get("with_steps", []):
        names |= set(names_of(answers.get(key)))
    low = int(rule.params["min"])
    return None if len(names) >= low else {"count": len(names), "min": f"{low:02d}"}


def count_at_most(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """At most `max` distinct names in this answer together with the names of `with_steps`."""
    names = set(names_of(value))
    for key in rule.params.get("with_steps", []):
        names |= set(names_of(answers.get(key)))
    high = int(rule.params["max"])
    return None if len(names) <= high else {"count": len(names), "max": f"{high:02d}"}


def _officials(answers: Mapping[str, Any], rule: Rule) -> set[str]:
    role_field = str(rule.params.get("role_field", "role"))
    return {str(r.get("name")) for r in _records(answers, rule) if r.get(role_field, "official") == "official"}


def official_members(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """Every name in the answer is an official member of the list."""
    outside = [n for n in names_of(value) if n not in _officials(answers, rule)]
    return {"names": _joined(outside)} if outside else None


def official_unless(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """An official member, or someone else only when an earlier answer allows it (`when`: {step: value})."""
    outside = [n for n in names_of(value) if n not in _officials(answers, rule)]
    allowed = all(answers.get(k) == v for k, v in dict(rule.params.get("when") or {}).items())
    return {"names": _joined(outside)} if outside and not allowed else None


def not_same_as(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """No name of this answer also holds the offices of `steps` (forbidden dual roles)."""
    others = {n for key in rule.params.get("steps", []) for n in names_of(answers.get(key))}
    both = [n for n in names_of(value) if n in others]
    return {"names": _joined(both)} if both else None


def tht_route(value: Any, answers: Mapping[str, Any], rule: Rule, form: Form) -> Facts | None:
    """Which THT procedure applies (Law 17/2023 Art. 107(2)): "register" or "contract", with the reason."""
    route, reason = route_of(answers)
    return {"case": route, "reason": reason}


def route_of(answers: Mapping[str, Any]) -> tuple[str, str]:
    """("register" | "contract", why) from the members' contributions, the term and the wish for support."""
    from handlers.forms.validators import term_months

    has_capital = any(isinstance(m.get("contribution"), int) and m["contribution"] > 0
                      for m in answers.get("members") or [])
    months = term_months(str(answers.get("term") or ""))
    long_term = months is None or months >= 12
    if answers.get("state_support") == "yes":
        return "register", "tổ muốn được thụ hưởng chính sách của Nhà nước"
    if has_capital and long_term:
        term = "không xác định thời hạn" if months is None else f"thời hạn {answers.get('term')} (từ 12 tháng trở lên)"
        return "register", f"các thành viên có góp vốn và hợp đồng hợp tác {term}"
    if not has_capital:
        return "contract", "các thành viên không góp vốn"
    return "contract", f"hợp đồng hợp tác có thời hạn {answers.get('term')}, dưới 12 tháng"


RULE_CHECKS: dict[str, Check] = {
    "equals_total": equals_total, "each_share_at_most": each_share_at_most,
    "group_share_at_most": group_share_at_most, "count_at_least": count_at_least, "count_at_most": count_at_most,
    "official_members": official_members, "official_unless": official_unless, "not_same_as": not_same_as,
    "tht_route": tht_route,
}


def render(rule: Rule, facts: Facts) -> str:
    """The rule's message with its facts, ending with the article it rests on."""
    template = rule.messages.get(str(facts.get("case")), rule.message) if rule.messages else rule.message
    text = template.format(**facts).strip()
    return f"{text} ({rule.article})." if rule.article else text


class RuleRefusal(str):
    """A refusal by a rule across answers: it names the article and what to change, so no example is added."""


def broken(step: Step, value: Any, answers: Mapping[str, Any], form: Form) -> list[str]:
    """Refusal messages of the step's rules for `value` given the other answers (empty: all hold)."""
    candidate = {**answers, step.key: value}
    out = []
    for rule in step.rules:
        if rule.inform:
            continue
        facts = RULE_CHECKS[rule.check](value, candidate, rule, form)
        if facts is not None:
            out.append(render(rule, facts))
    return out


def notices(step: Step, value: Any, answers: Mapping[str, Any], form: Form) -> list[str]:
    """What the step's `kind: inform` rules tell the user once its answer is stored."""
    candidate = {**answers, step.key: value}
    out = []
    for rule in step.rules:
        if rule.inform:
            facts = RULE_CHECKS[rule.check](value, candidate, rule, form)
            if facts is not None:
                out.append(render(rule, facts))
    return out
