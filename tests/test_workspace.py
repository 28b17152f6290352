"""The member's workspace: their authority's items in the right sections, the interests received
and sent, the invitations to co-own ideas — and never another authority's drafts."""

import re

import pytest

from exchange.extensions import db
from exchange.submissions import services
from exchange.submissions.models import CoOwnerStatus
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_authority,
    make_coordinator,
    make_member,
    make_submission,
    practice_content,
)

pytestmark = pytest.mark.usefixtures("reference")


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def workspace(client) -> str:
    response = client.get("/workspace/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section [^>]*id="{section_id}"[^>]*>(.*?)</section>', page, re.DOTALL)
    assert match, f"no section {section_id}"
    return match.group(1)


def items_in(page: str, section_id: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-item="(\d+)"', section(page, section_id))}


SECTIONS = ("drafts", "under-review", "published", "ended")


def where(page: str) -> dict[int, str]:
    """Item id → the section it is listed in (each item in one section only, except a published
    item with a new version, which is in two)."""
    found = {}
    for section_id in SECTIONS:
        for item in items_in(page, section_id):
            found.setdefault(item, section_id)
    return found


@pytest.fixture
def two_authorities():
    coordinator = make_coordinator()
    a = make_authority(name="Gobierno Regional de Tacna")
    b = make_authority(name="Región de Arica y Parinacota", country="CL", subdivision="CL-AP")
    a_member = make_member(a)
    b_member = make_member(b)
    items = {}
    for owner, prefix in ((a_member, "a"), (b_member, "b")):
        for state in (
            "draft",
            "changes_requested",
            "submitted",
            "in_review",
            "published",
            "archived",
            "rejected",
        ):
            items[f"{prefix}_{state}"] = make_submission(owner, state=state, reviewer=coordinator)
        items[f"{prefix}_closed"] = make_submission(
            owner, kind="idea", state="closed", reviewer=coordinator
        )
    return {"a_member": a_member, "b_member": b_member, "items": items, "coordinator": coordinator}


def test_each_item_is_in_its_section_and_only_its_authoritys(app, two_authorities):
    items = two_authorities["items"]
    expected_sections = {
        "draft": "drafts",
        "changes_requested": "drafts",
        "submitted": "under-review",
        "in_review": "under-review",
        "published": "published",
        "archived": "ended",
        "rejected": "ended",
        "closed": "ended",
    }
    for prefix, member in (("a", "a_member"), ("b", "b_member")):
        page = workspace(signed_in(app, two_authorities[member]))
        found = where(page)
        mine = {
            items[f"{prefix}_{state}"].id: expected for state, expected in expected_sections.items()
        }
        assert found == mine
        other = "b" if prefix == "a" else "a"
        for state in expected_sections:
            theirs = items[f"{other}_{state}"]
            assert f'data-item="{theirs.id}"' not in page
            assert f'"/practices/{theirs.id}"' not in page
            assert f'"/ideas/{theirs.id}"' not in page


def test_changes_requested_show_the_reviewers_comment(app):
    author = make_member()
    submission = make_submission(author, state="changes_requested")
    page = workspace(signed_in(app, author))
    drafts = section(page, "drafts")
    assert f'data-item="{submission.id}"' in drafts
    assert "The coordinators asked for changes:" in drafts
    assert "Añadan cifras." in drafts
    assert f'href="/practices/{submission.id}/edit"' in drafts


def test_a_published_item_with_a_new_version_is_flagged(app):
    author = make_member()
    coordinator = make_coordinator()
    submission = make_submission(author, state="published", reviewer=coordinator)
    client = signed_in(app, author)
    assert "New version pending" not in section(workspace(client), "published")

    services.save_content(author, submission, practice_content(title="Segunda versión"))
    db.session.commit()
    page = workspace(client)
    published = section(page, "published")
    assert f'data-item="{submission.id}"' in published
    assert "New version pending" in published
    # It is also among the drafts: the owners have work to do on it.
    assert f'data-item="{submission.id}"' in section(page, "drafts")

    services.submit(author, submission)
    services.request_changes(coordinator, submission, "Falta el presupuesto.")
    db.session.commit()
    page = workspace(client)
    assert "Falta el presupuesto." in section(page, "drafts")
    assert "New version pending" in section(page, "published")


def test_interests_received_and_sent(app):
    a_member = make_member(make_authority(name="Gobierno Regional de Tacna"))
    b_authority = make_authority(name="Región de Arica y Parinacota")
    b_member = make_member(b_authority)
    c_member = make_member(make_authority(name="Provincia de Jujuy"))
    practice = make_submission(a_member, state="published")
    interest = services.express_interest(b_member, practice, "¿Cuánto costó?")
    db.session.commit()

    a_page = workspace(signed_in(app, a_member))
    received = section(a_page, "interests-received")
    assert "¿Cuánto costó?" in received
    assert "Región de Arica y Parinacota" in received
    assert f'action="/interests/{interest.id}/answer"' in received
    assert 'name="back" type="hidden" value="workspace"' in received
    assert "No authority has shown interest" not in received
    assert "¿Cuánto costó?" not in section(a_page, "interests-sent")

    b_client = signed_in(app, b_member)
    sent = section(workspace(b_client), "interests-sent")
    assert "¿Cuánto costó?" in sent
    assert "Waiting for an answer" in sent
    assert "/answer" not in sent

    services.answer_interest(a_member, interest, "Unos 1,2 millones de soles.")
    db.session.commit()
    sent = section(workspace(b_client), "interests-sent")
    assert "Unos 1,2 millones de soles." in sent
    assert "Answered" in sent

    c_page = workspace(signed_in(app, c_member))
    assert "¿Cuánto costó?" not in c_page
    assert "No authority has shown interest in your practices and ideas yet." in c_page


def test_co_ownership_invitations_are_answered_from_the_workspace(app):
    author = make_member(make_authority(name="Gobierno Regional de Tacna"))
    partner = make_member(make_authority(name="Región de Arica y Parinacota"))
    idea = make_submission(author, kind="idea")
    co_owner = services.invite_co_owner(author, idea, partner.authority_id, "¿Se suman?")
    db.session.commit()

    client = signed_in(app, partner)
    invitations = section(workspace(client), "invitations")
    assert "¿Se suman?" in invitations
    assert "Gobierno Regional de Tacna" in invitations
    accept = f"/ideas/{idea.id}/invitation/accept"
    assert f'action="{accept}"' in invitations
    assert f'action="/ideas/{idea.id}/invitation/decline"' in invitations
    # The author's own workspace shows the draft, not an invitation.
    assert "¿Se suman?" not in section(workspace(signed_in(app, author)), "invitations")

    response = client.post(accept, data={"csrf_token": csrf_token(client, "/workspace/")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(co_owner), co_owner.id).status == CoOwnerStatus.ACCEPTED
    page = workspace(client)
    assert "No invitation is waiting for your authority." in section(page, "invitations")
    # The idea is now theirs too.
    drafts = section(page, "drafts")
    assert f'data-item="{idea.id}"' in drafts
    assert "co-owned with Gobierno Regional de Tacna" in drafts


def test_an_empty_workspace_says_what_to_do(app):
    page = workspace(signed_in(app, make_member()))
    assert "No draft. Start a good practice or a project idea" in page
    assert "Nothing is waiting for the coordinators." in page
    assert "Nothing published yet." in page
    assert "No invitation is waiting for your authority." in page
    assert 'href="/practices/new"' in page
    assert 'href="/ideas/new"' in page
    assert "unverified-notice" not in page
    assert "unconfirmed-notice" not in page


def test_notices_for_an_unverified_authority_and_an_unconfirmed_address(app):
    member = make_member(make_authority(verified=False), confirmed=False)
    page = workspace(signed_in(app, member))
    assert 'id="unverified-notice"' in page
    assert "Your authority is waiting for a coordinator to verify it" in page
    assert 'id="unconfirmed-notice"' in page


def test_coordinators_without_an_authority_are_pointed_to_their_dashboard(app):
    page = workspace(signed_in(app, make_coordinator()))
    assert 'id="coordinator-notice"' in page
    assert 'href="/review/dashboard"' in page
    assert 'id="drafts"' not in page


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/workspace/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
