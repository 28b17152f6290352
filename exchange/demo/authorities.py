"""The demo's people: staff logins, and authorities from both sides with one member each.

Region names come from ISO 3166-2 as pycountry has them. The names of the first eight
authorities must not change: `seed-demo` recognises what it made before by them.
"""

from dataclasses import dataclass

import pycountry

from exchange.auth.models import Role


def region(code: str) -> str:
    """The ISO 3166-2 name of a subdivision ("Galicia [Galicia]" → "Galicia")."""
    return pycountry.subdivisions.get(code=code).name.split(" [")[0]


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
    # What the member can try on the platform (printed with the logins).
    try_this: str = ""

    @property
    def slug(self) -> str:
        return self.member_email.split("@")[0]


def _email(slug: str) -> str:
    return f"{slug}@demo.exchange.example"


STAFF = (
    ("admin@demo.exchange.example", "Platform administrator", Role.ADMIN, "en"),
    (
        "coordinator@demo.exchange.example",
        "María Fernández (IURC coordination)",
        Role.COORDINATOR,
        "es",
    ),
)

STAFF_HINTS = {
    "admin@demo.exchange.example": "people and roles, programmes, themes, border areas; "
    "everything a coordinator can",
    "coordinator@demo.exchange.example": "the review queue (submitted and in-review items), "
    "decisions with comments, verifying Gobierno Provincial de Loja",
}

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
        member_email=_email("tacna"),
        member_name="Lucía Quispe",
        try_this="a published practice with an interest to answer; ideas co-owned with Arica; "
        "a draft whose invitation to Arica is pending",
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
        member_email=_email("arica"),
        member_name="Matías Rojas",
        try_this="answer Tacna's invitation to co-own an idea; a co-owned idea in review",
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
        member_email=_email("curitiba"),
        member_name="Ana Carolina Souza",
        try_this="a published practice whose new revision is under review; interests received",
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
        member_email=_email("jalisco"),
        member_name="Jorge Hernández",
        try_this="a practice in review; an interest sent to Tacna, not answered yet",
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
        member_email=_email("bologna"),
        member_name="Giulia Romano",
        try_this="finish an incomplete draft and submit it; an interest to answer",
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
        member_email=_email("porto"),
        member_name="Rui Ferreira",
        try_this="a published and an archived practice; an answered interest sent to Curitiba",
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
        member_email=_email("occitanie"),
        member_name="Claire Martin",
        try_this="revise a practice whose changes were requested, and submit it again",
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
        member_email=_email("loja"),
        member_name="Daniela Ordóñez",
        try_this="an authority waiting for verification: drafts only, no submitting",
    ),
    DemoAuthority(
        f"Gobernación de {region('CO-NAR')}",
        "region",
        "CO",
        "CO-NAR",
        "es",
        "Departamento fronterizo con Ecuador; apuesta por el cacao, el café especial y la "
        "cooperación con la provincia del Carchi.",
        ("INNOVACT",),
        ("agri-food", "value-chains", "cross-border-cooperation"),
        ("CO-EC",),
        member_email=_email("narino"),
        member_name="Andrés Benavides",
        try_this="an idea whose changes were requested",
    ),
    DemoAuthority(
        f"Gobierno Regional de {region('PE-PIU')}",
        "region",
        "PE",
        "PE-PIU",
        "es",
        "Región del norte del Perú con cacao blanco, mango y limón de exportación; vecina de Loja.",
        ("INNOVACT", "INNOV-AL"),
        ("agri-food", "value-chains", "water-management"),
        ("EC-PE",),
        member_email=_email("piura"),
        member_name="Rosa Chunga",
        try_this="an idea submitted, waiting for the coordinators",
    ),
    DemoAuthority(
        f"Gobierno de la Provincia de {region('AR-N')}",
        "region",
        "AR",
        "AR-N",
        "es",
        "Provincia de la triple frontera con Paraguay y Brasil: yerba mate, turismo y una "
        "industria del software en crecimiento.",
        ("INNOVACT", "INNOV-AL"),
        ("tourism", "ict", "agri-food"),
        ("AR-PY-BR",),
        member_email=_email("misiones"),
        member_name="Martín Benítez",
        try_this="a published idea with an answered interest from Foz do Iguaçu",
    ),
    DemoAuthority(
        f"Gobierno del Estado de {region('MX-CHP')}",
        "region",
        "MX",
        "MX-CHP",
        "es",
        "Estado fronterizo con Guatemala; café de altura, energías limpias y corredores "
        "económicos del sur-sureste.",
        ("INNOVACT", "EU-MX-DIALOGUE"),
        ("energy-transition", "agri-food", "cross-border-cooperation"),
        ("MX-GT",),
        member_email=_email("chiapas"),
        member_name="Citlali Gómez",
        try_this="a rejected idea and the coordinator's reason",
    ),
    DemoAuthority(
        f"Gobierno Autónomo Departamental de {region('BO-N')}",
        "region",
        "BO",
        "BO-N",
        "es",
        "Departamento amazónico de Bolivia: castaña, asaí y bosques bajo manejo comunitario.",
        ("INNOVACT",),
        ("natural-resource-management", "agri-food", "nature-conservation"),
        ("BO-PE",),
        member_email=_email("pando"),
        member_name="Freddy Suárez",
        try_this="an idea closed to new partners",
    ),
    DemoAuthority(
        f"Intendencia de {region('UY-MO')}",
        "municipality",
        "UY",
        "UY-MO",
        "es",
        "Gobierno departamental de Montevideo: participación ciudadana, movilidad y gobierno "
        "abierto.",
        ("IURC",),
        ("smart-cities", "social-cohesion", "sustainable-mobility"),
        member_email=_email("montevideo"),
        member_name="Valentina Pereira",
        try_this="a published practice; an interest sent to Foz do Iguaçu",
    ),
    DemoAuthority(
        "Área Metropolitana del Valle de Aburrá",
        "metropolitan_area",
        "CO",
        "CO-ANT",
        "es",
        "Autoridad de transporte y ambiental de los diez municipios del valle, con Medellín.",
        ("IURC",),
        ("sustainable-mobility", "low-carbon-urban-planning", "smart-cities"),
        member_email=_email("aburra"),
        member_name="Camilo Restrepo",
        try_this="a published practice; an interest sent to Bologna",
    ),
    DemoAuthority(
        "Prefeitura Municipal de Foz do Iguaçu",
        "municipality",
        "BR",
        "BR-PR",
        "pt",
        "Cidade da Tríplice Fronteira, porta de entrada das Cataratas do Iguaçu; turismo, "
        "logística e tecnologia.",
        ("IURC", "INNOVACT"),
        ("tourism", "ict", "cross-border-cooperation"),
        ("AR-PY-BR",),
        member_email=_email("foz"),
        member_name="Juliana Lima",
        try_this="a published idea with an interest to answer",
    ),
    DemoAuthority(
        "Secretaría de Desarrollo Agrario, Territorial y Urbano (SEDATU)",
        "national_body",
        "MX",
        None,
        "es",
        "Secretaría federal mexicana responsable del ordenamiento territorial, el desarrollo "
        "urbano y la vivienda; contraparte del diálogo con la Comisión Europea.",
        ("EU-MX-DIALOGUE",),
        ("multi-level-governance", "urban-regional-renewal", "low-carbon-urban-planning"),
        member_email=_email("sedatu"),
        member_name="Alejandro Ruiz",
        try_this="a practice submitted for review",
    ),
    DemoAuthority(
        f"Regione {region('IT-45')}",
        "region",
        "IT",
        "IT-45",
        "en",
        "Italian region with a strong agri-food and mechatronics base, a regional innovation "
        "network of labs and a smart-specialisation strategy renewed every seven years.",
        ("INNOV-AL", "IURC"),
        ("smart-specialisation", "clusters-competitiveness", "agri-food"),
        member_email=_email("emilia"),
        member_name="Marco Bianchi",
        try_this="a rejected practice and the coordinator's reason",
    ),
    DemoAuthority(
        f"Xunta de {region('ES-GA')}",
        "region",
        "ES",
        "ES-GA",
        "es",
        "Gobierno autonómico gallego: economía azul, acuicultura y una larga cooperación "
        "transfronteriza con el Norte de Portugal.",
        ("INNOV-AL",),
        ("blue-economy", "aquaculture", "innovation-systems"),
        member_email=_email("galicia"),
        member_name="Uxía Castro",
        try_this="a published practice",
    ),
    DemoAuthority(
        "Agencia Andaluza de la Energía",
        "agency",
        "ES",
        "ES-AN",
        "es",
        "Agencia de la Junta de Andalucía para la transición energética: autoconsumo, eficiencia "
        "y redes inteligentes.",
        ("IURC",),
        ("energy-transition", "energy-efficiency"),
        member_email=_email("andalucia"),
        member_name="Javier Moreno",
        try_this="a published practice",
    ),
    DemoAuthority(
        f"Województwo {region('PL-12')}",
        "region",
        "PL",
        "PL-12",
        "en",
        "Małopolska region (Kraków): clean air, energy efficiency and a regional innovation "
        "strategy built with its universities.",
        ("IURC",),
        ("energy-efficiency", "ecological-transition", "low-carbon-urban-planning"),
        member_email=_email("malopolska"),
        member_name="Katarzyna Nowak",
        try_this="a practice sent back for changes, revised and submitted again",
    ),
    DemoAuthority(
        f"Área Metropolitana do {region('PT-13')}",
        "metropolitan_area",
        "PT",
        "PT-13",
        "pt",
        "Associação dos 17 municípios da área metropolitana do Porto: transportes, ambiente e "
        "fundos europeus.",
        ("IURC",),
        ("sustainable-mobility", "circular-economy"),
        member_email=_email("amp"),
        member_name="Inês Carvalho",
        try_this="a complete draft, ready to submit",
    ),
    DemoAuthority(
        "Agrupamento Europeu de Cooperação Territorial Galiza–Norte de Portugal",
        "cross_border_body",
        "ES",
        "ES-PO",
        "pt",
        "AECT da Eurorregião Galiza–Norte de Portugal: cooperação transfronteiriça em mobilidade, "
        "emprego, cultura e inovação desde 2008.",
        ("INNOVACT",),
        ("cross-border-cooperation", "multi-level-governance"),
        member_email=_email("gnp"),
        member_name="Tiago Gonçalves",
        try_this="a published idea whose new revision is under review",
    ),
)
