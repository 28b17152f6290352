"""Demo data for a development machine: believable authorities from both sides, and the people
who log in to try the platform. Created through the real services; running it twice adds nothing."""

from dataclasses import dataclass

from sqlalchemy import select

from exchange.auth.models import Role, find_user_by_email
from exchange.auth.services import create_user
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.authorities.services import ProfileChanges, create_authority, update_profile
from exchange.extensions import db
from exchange.reference.models import BorderArea, Programme, Theme


@dataclass(frozen=True)
class DemoAuthority:
    name: str
    kind: str
    country: str
    subdivision: str | None
    language: str
    description: str
    programmes: tuple[str, ...]
    themes: tuple[str, ...]
    border_areas: tuple[str, ...] = ()
    verified: bool = True
    member_email: str = ""
    member_name: str = ""


AUTHORITIES = (
    DemoAuthority(
        "Gobierno Regional de Tacna",
        "region",
        "PE",
        "PE-TAC",
        "es",
        "Región fronteriza con Chile que impulsa la agricultura en zonas con escasez de agua y el "
        "turismo de aventura andino, con una agenda de cooperación transfronteriza con Arica.",
        ("INNOVACT", "INNOV-AL"),
        ("water-management", "agri-food", "cross-border-cooperation"),
        ("PE-CL",),
        member_email="tacna@demo.exchange.example",
        member_name="Lucía Quispe",
    ),
    DemoAuthority(
        "Gobierno Regional de Arica y Parinacota",
        "region",
        "CL",
        "CL-AP",
        "es",
        "Región del extremo norte de Chile; trabaja con Tacna en turismo, agua y logística.",
        ("INNOVACT",),
        ("tourism", "water-management", "cross-border-cooperation"),
        ("PE-CL",),
        member_email="arica@demo.exchange.example",
        member_name="Matías Rojas",
    ),
    DemoAuthority(
        "Prefeitura Municipal de Curitiba",
        "municipality",
        "BR",
        "BR-PR",
        "pt",
        "Cidade reconhecida pelo transporte coletivo e pelo planejamento urbano; procura parceiros "
        "em mobilidade sustentável e economia circular.",
        ("IURC",),
        ("sustainable-mobility", "circular-economy", "low-carbon-urban-planning"),
        member_email="curitiba@demo.exchange.example",
        member_name="Ana Carolina Souza",
    ),
    DemoAuthority(
        "Gobierno del Estado de Jalisco",
        "region",
        "MX",
        "MX-JAL",
        "es",
        "Estado mexicano con una estrategia de especialización inteligente en agroalimentación y "
        "tecnologías de la información.",
        ("EU-MX-DIALOGUE", "IURC", "INNOV-AL"),
        ("smart-specialisation", "agri-food", "ict"),
        member_email="jalisco@demo.exchange.example",
        member_name="Jorge Hernández",
    ),
    DemoAuthority(
        "Comune di Bologna",
        "municipality",
        "IT",
        "IT-BO",
        "en",
        "City of Bologna: climate-neutral city mission, urban regeneration and a strong record in "
        "participatory planning.",
        ("IURC",),
        ("sustainable-mobility", "urban-regional-renewal", "energy-transition"),
        member_email="bologna@demo.exchange.example",
        member_name="Giulia Romano",
    ),
    DemoAuthority(
        "Câmara Municipal do Porto",
        "municipality",
        "PT",
        "PT-13",
        "pt",
        "Município do Porto: economia circular, gestão de resíduos e reabilitação urbana.",
        ("IURC",),
        ("circular-economy", "waste-management", "cultural-heritage"),
        member_email="porto@demo.exchange.example",
        member_name="Rui Ferreira",
    ),
    DemoAuthority(
        "Région Occitanie",
        "region",
        "FR",
        "FR-OCC",
        "en",
        "French region with a smart-specialisation strategy in agri-food, water and aerospace; "
        "experienced in cross-border cooperation with Spain.",
        ("INNOV-AL", "INNOVACT"),
        ("smart-specialisation", "water-management", "agri-food"),
        member_email="occitanie@demo.exchange.example",
        member_name="Claire Martin",
    ),
    DemoAuthority(
        "Gobierno Provincial de Loja",
        "region",
        "EC",
        "EC-L",
        "es",
        "Provincia fronteriza con Perú: café, cacao y turismo.",
        ("INNOVACT",),
        ("agri-food", "tourism"),
        ("EC-PE",),
        verified=False,
        member_email="loja@demo.exchange.example",
        member_name="Daniela Ordóñez",
    ),
)

STAFF = (
    ("admin@demo.exchange.example", "Platform administrator", Role.ADMIN, "en"),
    (
        "coordinator@demo.exchange.example",
        "María Fernández (IURC coordination)",
        Role.COORDINATOR,
        "es",
    ),
)


def _by_codes(model, codes) -> list:
    return list(db.session.scalars(select(model).where(model.code.in_(codes))))


def seed_demo(password: str, progress=None) -> list[tuple[str, str]]:
    """Create what is missing; returns (e-mail, role or authority) for every demo login."""
    logins = []
    admin = None
    for email, name, role, language in STAFF:
        user = find_user_by_email(email) or create_user(
            email=email, name=name, password=password, language=language, role=role, confirmed=True
        )
        admin = admin or user
        logins.append((email, role.value))
    for demo in AUTHORITIES:
        authority = db.session.scalar(select(Authority).where(Authority.name == demo.name))
        if authority is None:
            authority = create_authority(
                admin,
                name=demo.name,
                kind=demo.kind,
                country_code=demo.country,
                subdivision_code=demo.subdivision,
                languages=[demo.language],
                status=AuthorityStatus.VERIFIED if demo.verified else AuthorityStatus.PENDING,
            )
            update_profile(
                admin,
                authority,
                ProfileChanges(
                    name=demo.name,
                    kind=demo.kind,
                    country_code=demo.country,
                    subdivision_code=demo.subdivision,
                    website=None,
                    description=demo.description,
                    description_language=demo.language,
                    languages=[demo.language],
                    programme_ids=[p.id for p in _by_codes(Programme, demo.programmes)],
                    theme_ids=[t.id for t in _by_codes(Theme, demo.themes)],
                    border_area_ids=[b.id for b in _by_codes(BorderArea, demo.border_areas)],
                    match_capacity=3,
                ),
            )
        if find_user_by_email(demo.member_email) is None:
            create_user(
                email=demo.member_email,
                name=demo.member_name,
                password=password,
                language=demo.language,
                authority=authority,
                confirmed=True,
            )
        logins.append((demo.member_email, demo.name))
        if progress is not None:
            progress.update(1)
    db.session.flush()
    return logins
