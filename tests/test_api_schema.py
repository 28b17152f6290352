"""schemathesis against the API's own OpenAPI document: for every operation, generated requests
(valid ones, and invalid ones) never get a 5xx, and every answer matches what the document says
(status, content type, headers, body); the token-only operations refuse a request without one.

schemathesis' Python API is used directly (a strategy per operation, run by Hypothesis) rather
than its pytest plugin, whose lazy loading from a fixture does not work with pytest 9. Bounded
(MAX_EXAMPLES per operation and mode, derandomised) so that the suite stays quick and
repeatable.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from exchange.api.services import create_token
from exchange.extensions import db
from tests.factories import make_authority, make_match, make_member, make_submission

MAX_EXAMPLES = 25
# A request the document allows may still name a code that does not exist (theme=xyz) or carry a
# cursor the API never made: the API answers 400 naming the parameter, which is right.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}}}
)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def token(app, reference, monkeypatch) -> str:
    """Data behind the API — public and private items, two authorities, a match — and a token
    of one side."""
    # Hundreds of requests in one test: the rate limit is tested elsewhere.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "100000 per minute")
    member = make_member(make_authority(name="Gobierno Regional de Tacna"))
    partner = make_authority(name="Generalitat Valenciana", country="ES", subdivision="ES-V")
    make_member(partner)
    for state in ("published", "draft", "in_review", "archived"):
        make_submission(member, state=state)
    make_submission(member, kind="idea", state="published")
    make_match(member.authority, partner, state="connected")
    _token, secret = create_token(member, "schemathesis")
    db.session.commit()
    return secret


def _check(operation, mode: GenerationMode, headers: dict, app) -> None:
    @HYPOTHESIS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers=headers, app=app)

    run()


def test_every_operation_answers_as_its_document_says(app, token, subtests):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(schema.raw_schema["paths"]) == 18
    for operation in operations:
        secured = bool(operation.definition.raw.get("security"))
        headers = {"Authorization": f"Bearer {token}"} if secured else {}
        # Invalid data needs a parameter to be invalid in.
        modes = [GenerationMode.POSITIVE]
        if operation.query or operation.path_parameters:
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            with subtests.test(msg=f"{operation.label} ({mode.value})"):
                _check(operation, mode, headers, app)
