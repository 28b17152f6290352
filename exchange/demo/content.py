"""The demo's practices and project ideas, each written by its authority in its own language, and
the interest authorities show in each other's work.

Every workflow state appears at least once. `state` is a state of `exchange.workflow.State`, or
one of two histories worth seeing: "revised" (published, then edited: the new revision is under
review while the published one stays visible) and "resubmitted" (changes were requested, the
owners made them and submitted again).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoItem:
    kind: str  # "practice" or "idea"
    owner: str  # the slug of the owning authority (see authorities.py)
    state: str
    language: str
    title: str
    summary: str
    themes: tuple[str, ...]
    objectives: tuple[str, ...] = ()
    # The other text fields of the kind: problem, actions, results, … or description, …
    text: dict[str, str] = field(default_factory=dict)
    period: tuple[str, str] | None = None
    border_area: str | None = None
    budget_range: str | None = None
    open_for_days: int | None = None
    partner_kinds: tuple[str, ...] = ()
    partner_sides: tuple[str, ...] = ()
    partner_themes: tuple[str, ...] = ()
    # Authorities invited to co-own an idea, and their answer: "accepted", "declined", "invited".
    co_owners: tuple[tuple[str, str], ...] = ()
    invitation: str = ""
    # The coordinator's comment when asking for changes or rejecting.
    comment: str = ""
    # What the owners change in a new revision ("revised", "resubmitted").
    revision: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoInterest:
    item: str  # the title of a published practice or idea
    by: str  # the slug of the interested authority
    message: str
    answer: str = ""


PRACTICES = (
    DemoItem(
        "practice",
        "tacna",
        "published",
        "es",
        "Riego tecnificado para la agricultura familiar en el valle de Caplina",
        "La región cofinanció riego por goteo y asistencia técnica para 300 familias productoras "
        "de olivo y orégano, y redujo la presión sobre un acuífero sobreexplotado.",
        ("water-management", "agri-food"),
        ("INNOVACT-3",),
        {
            "problem": "El valle depende de un acuífero que desciende cada año. El riego por "
            "inundación desperdiciaba más de la mitad del agua, y los pequeños productores no "
            "podían pagar la tecnificación por su cuenta.",
            "actions": "Creamos un fondo concursable con un aporte regional del 70 %, organizamos "
            "a los regantes en comités por canal y contratamos técnicos de campo que acompañaron "
            "la instalación y el primer año de operación.",
            "results": "Las parcelas tecnificadas usan un 40 % menos de agua y el rendimiento del "
            "olivo subió un 18 %. La junta de usuarios publica los caudales cada semana.",
            "resources": "1,2 millones de soles en tres años, dos tercios del presupuesto "
            "regional; seis técnicos de campo.",
            "transferability": "Aplicable en valles áridos con organizaciones de regantes y un "
            "registro de derechos de agua al día.",
            "lessons": "La organización de los regantes pesa tanto como la técnica: sin comités "
            "que repartan turnos, el agua ahorrada se pierde aguas abajo.",
        },
        period=("2019-03-01", "2022-12-31"),
    ),
    DemoItem(
        "practice",
        "curitiba",
        "revised",
        "pt",
        "Rede Integrada de Transporte: canaletas exclusivas e estações-tubo",
        "Ônibus expressos em vias exclusivas, embarque em nível nas estações-tubo e tarifa única "
        "integrando a capital e a região metropolitana.",
        ("sustainable-mobility", "low-carbon-urban-planning"),
        ("IURC-1",),
        {
            "problem": "O crescimento rápido da cidade nos anos 1970 ameaçava repetir o modelo de "
            "vias largas e congestionadas, sem orçamento para um metrô.",
            "actions": "Os eixos estruturais combinaram uso do solo denso com canaletas "
            "exclusivas. As estações-tubo permitem pagar antes de embarcar, e a tarifa única "
            "integra 14 municípios.",
            "results": "Mais de 1 milhão de passageiros por dia útil antes da pandemia, tempos de "
            "embarque reduzidos à metade e um modelo copiado por mais de 200 cidades.",
            "resources": "Infraestrutura financiada pelo município e por bancos de "
            "desenvolvimento; operação concedida a empresas privadas e regulada pela URBS.",
            "transferability": "Exige integrar o planejamento do uso do solo e do transporte; "
            "adaptável a cidades médias que não podem pagar um metrô.",
            "lessons": "A manutenção da frota e das estações é tão importante quanto a obra: a "
            "qualidade percebida caiu quando o investimento parou.",
        },
        period=("1974-01-01", "2019-12-31"),
        revision={
            "summary": "Ônibus expressos em vias exclusivas, embarque em nível nas "
            "estações-tubo e tarifa única integrando a capital e a região metropolitana — agora "
            "com a eletrificação da frota a partir de 2024.",
            "results": "Mais de 1 milhão de passageiros por dia útil antes da pandemia e tempos "
            "de embarque reduzidos à metade. Os primeiros 70 ônibus elétricos da Linha Verde "
            "reduziram as emissões do eixo em 30 %.",
        },
    ),
    DemoItem(
        "practice",
        "curitiba",
        "published",
        "pt",
        "Câmbio Verde: recicláveis trocados por alimentos da agricultura familiar",
        "Moradores trocam 4 kg de recicláveis por 1 kg de frutas e verduras compradas de "
        "pequenos produtores da região metropolitana.",
        ("circular-economy", "waste-management", "social-cohesion"),
        ("IURC-1",),
        {
            "problem": "Bairros periféricos acumulavam resíduos em terrenos baldios, enquanto "
            "agricultores familiares perdiam parte da safra por falta de compradores.",
            "actions": "A prefeitura montou 100 pontos de troca itinerantes, compra a safra "
            "excedente de cooperativas e vende os recicláveis a associações de catadores.",
            "results": "Cerca de 300 toneladas de recicláveis por mês e 90 toneladas de "
            "alimentos distribuídos; menos pontos de descarte irregular nos bairros atendidos.",
            "resources": "Equipe de 40 pessoas e compra de alimentos parcialmente coberta pela "
            "venda dos recicláveis.",
            "transferability": "Funciona onde há produção agrícola próxima e coleta seletiva "
            "incipiente.",
            "lessons": "A regularidade dos pontos de troca cria o hábito; mudar o calendário "
            "derruba a participação.",
        },
        period=("1991-06-01", "2023-12-31"),
    ),
    DemoItem(
        "practice",
        "bologna",
        "published",
        "en",
        "Civic imagination offices: neighbourhood labs for urban regeneration",
        "Six neighbourhood labs where residents, associations and the city co-design the reuse "
        "of public spaces and empty buildings.",
        ("urban-regional-renewal", "social-cohesion", "multi-level-governance"),
        ("IURC-1",),
        {
            "problem": "Regeneration projects were designed in city hall and met distrust in the "
            "neighbourhoods; many public buildings stood empty.",
            "actions": "The city's Foundation for Urban Innovation opened labs in each district, "
            "ran participatory budgeting rounds and signed collaboration pacts with residents "
            "who look after commons.",
            "results": "Over 500 collaboration pacts signed, 14 buildings reopened and a "
            "participatory budget of €1 million a year decided by 15,000 voters.",
            "resources": "A team of 20 facilitators and a yearly budget of about €1.5 million.",
            "transferability": "The regulation on collaboration pacts has been adopted by more "
            "than 200 Italian municipalities.",
            "lessons": "People take part when they see results within a year; long processes "
            "without visible change wear out trust.",
        },
        period=("2017-01-01", "2024-06-30"),
    ),
    DemoItem(
        "practice",
        "bologna",
        "draft",
        "en",
        "Climate City Contract: 50 local partners for a climate-neutral Bologna by 2030",
        "How the city turned the EU mission for climate-neutral cities into commitments signed "
        "by companies, universities and utilities.",
        ("energy-transition", "low-carbon-urban-planning"),
        ("IURC-1",),
        {
            "problem": "Two thirds of the city's emissions come from sources the municipality "
            "does not control.",
            "actions": "Draft: we are still collecting the partners' commitments.",
        },
    ),
    DemoItem(
        "practice",
        "porto",
        "archived",
        "pt",
        "Reabilitação de fachadas no centro histórico com apoio municipal",
        "Isenções de taxas e apoio técnico para os proprietários que reabilitam fachadas no "
        "centro histórico, Património Mundial.",
        ("cultural-heritage", "urban-regional-renewal"),
        ("IURC-1",),
        {
            "problem": "Edifícios degradados e devolutos no centro histórico punham em risco a "
            "classificação da UNESCO.",
            "actions": "Isenção de taxas municipais, projetos-tipo aprovados com rapidez e "
            "técnicos municipais a acompanhar as obras.",
            "results": "Mais de 900 fachadas reabilitadas em dez anos.",
            "resources": "Receita municipal renunciada de cerca de 2 milhões de euros.",
            "transferability": "Aplicável a centros históricos com proprietários privados "
            "dispersos.",
            "lessons": "Sem regras contra a especulação, a reabilitação acelerou a saída dos "
            "moradores; o programa foi substituído por um de habitação acessível.",
        },
        period=("2012-01-01", "2021-12-31"),
    ),
    DemoItem(
        "practice",
        "porto",
        "published",
        "pt",
        "Porto a Compostar: compostagem doméstica e comunitária",
        "Compostores gratuitos para moradias e hortas urbanas, com formação, e compostores "
        "comunitários nos bairros sociais.",
        ("circular-economy", "waste-management"),
        ("IURC-1",),
        {
            "problem": "Os biorresíduos eram quase 40 % do lixo indiferenciado e iam para "
            "incineração.",
            "actions": "Distribuímos compostores com uma sessão de formação obrigatória, "
            "instalámos compostores comunitários e criámos uma rede de mestres compostores.",
            "results": "12 000 famílias aderentes e cerca de 3 000 toneladas de biorresíduos "
            "desviadas por ano.",
            "resources": "350 000 euros por ano, cofinanciados por fundos europeus.",
            "transferability": "Fácil de replicar em cidades com moradias e hortas; em prédios "
            "exige compostores comunitários.",
            "lessons": "A formação presencial reduz para metade o abandono dos compostores.",
        },
        period=("2018-01-01", "2024-12-31"),
    ),
    DemoItem(
        "practice",
        "occitanie",
        "submitted",
        "en",
        "Sharing scarce water: a regional plan for farms, towns and rivers",
        "A regional water plan agreed by farmers, water utilities and environmental groups that "
        "sets how much water each use can take in dry years.",
        ("water-management", "agri-food", "multi-level-governance"),
        ("INNOV-AL-1", "INNOVACT-3"),
        {
            "problem": "Repeated droughts set farmers against towns and against the rivers' "
            "minimum flows; every summer ended in emergency restrictions.",
            "actions": "Two years of basin-by-basin negotiation produced volume quotas, a "
            "drought alert ladder and funds for storing winter water and for drip irrigation.",
            "results": "Emergency restrictions fell from 60 to 25 days a year in the pilot "
            "basins; irrigation water per hectare is down 15 %.",
            "resources": "€20 million a year from the region and the water agency.",
            "transferability": "The method fits any region where water is shared between "
            "agriculture and towns, on both sides of the Atlantic.",
            "lessons": "Publishing every user's withdrawals built the trust that the quotas "
            "needed.",
        },
        period=("2018-09-01", "2024-08-31"),
    ),
    DemoItem(
        "practice",
        "occitanie",
        "changes_requested",
        "en",
        "Agri-food innovation vouchers for small producers",
        "Vouchers of up to €10,000 let small farms and food firms buy services from research "
        "labs and technical centres.",
        ("agri-food", "innovation-systems", "smart-specialisation"),
        ("INNOV-AL-1",),
        {
            "problem": "Small producers rarely worked with the region's research labs.",
            "actions": "A simple online application, a list of accredited labs and an answer "
            "within three weeks.",
            "results": "The vouchers were very popular.",
            "transferability": "Any region with a research base can run vouchers.",
        },
        comment="Thank you. Please add figures: how many vouchers were awarded, to what kind of "
        "firms, and what they achieved. The results section only says they were popular.",
    ),
    DemoItem(
        "practice",
        "jalisco",
        "in_review",
        "es",
        "Red de centros de innovación agroalimentaria en Los Altos de Jalisco",
        "Tres centros que acercan a productores de leche, agave y berries a universidades y "
        "laboratorios de inocuidad.",
        ("agri-food", "smart-specialisation", "innovation-systems"),
        ("INNOV-AL-1", "EU-MX-DIALOGUE-2"),
        {
            "problem": "Las pequeñas agroindustrias no cumplían las normas de inocuidad para "
            "exportar y no tenían acceso a laboratorios.",
            "actions": "El estado y tres universidades equiparon centros regionales con "
            "laboratorios, plantas piloto y extensionistas que visitan a los productores.",
            "results": "120 empresas certificadas para exportar y 35 productos nuevos en el "
            "mercado en cuatro años.",
            "resources": "180 millones de pesos de inversión estatal y federal.",
            "transferability": "Replicable en regiones con una especialización agroalimentaria "
            "y universidades dispuestas a compartir equipos.",
            "lessons": "Los extensionistas son la clave: los productores no llegan solos al "
            "laboratorio.",
        },
        period=("2019-01-01", "2023-12-31"),
    ),
    DemoItem(
        "practice",
        "aburra",
        "published",
        "es",
        "EnCicla: bicicletas públicas integradas al metro del Valle de Aburrá",
        "Un sistema de bicicletas públicas gratuito para los usuarios registrados, conectado "
        "con las estaciones del metro y de los buses.",
        ("sustainable-mobility", "low-carbon-urban-planning"),
        ("IURC-1",),
        {
            "problem": "Los barrios de ladera y los campus quedaban lejos de las estaciones, y "
            "los viajes cortos se hacían en moto o en taxi.",
            "actions": "Estaciones de bicicletas junto al metro, ciclorrutas y una tarjeta "
            "única; el préstamo es gratuito con registro.",
            "results": "Más de 12 000 préstamos diarios, 100 estaciones y 1 600 bicicletas.",
            "resources": "Operación financiada por el área metropolitana con tasas ambientales.",
            "transferability": "Replicable donde hay un sistema de transporte masivo al que "
            "conectarse.",
            "lessons": "La integración tarifaria con el metro fue lo que multiplicó el uso.",
        },
        period=("2011-01-01", "2024-12-31"),
    ),
    DemoItem(
        "practice",
        "emilia",
        "rejected",
        "en",
        "Emilia-Romagna agri-food cluster strategy 2030",
        "Our plan to bring together agri-food firms, labs and training centres in one regional "
        "cluster.",
        ("clusters-competitiveness", "agri-food", "smart-specialisation"),
        ("INNOV-AL-1",),
        {
            "problem": "Agri-food firms, labs and training centres work side by side without a "
            "shared agenda.",
            "actions": "We will launch the cluster association in 2026 and adopt its roadmap.",
            "results": "Expected: 200 member firms and joint projects worth €50 million.",
            "transferability": "The cluster model could be reused by other regions.",
        },
        comment="This describes a strategy still to be implemented, not a practice with results. "
        "Please submit it as a project idea, or come back once the cluster has its first "
        "results.",
    ),
    DemoItem(
        "practice",
        "montevideo",
        "published",
        "es",
        "Montevideo Decide: presupuesto participativo con voto digital",
        "Los vecinos proponen y votan obras para su barrio, en línea o en puntos de votación, "
        "con un presupuesto reservado cada año.",
        ("smart-cities", "social-cohesion", "multi-level-governance"),
        ("IURC-1",),
        {
            "problem": "La participación en el presupuesto participativo presencial había caído "
            "y envejecido.",
            "actions": "Una plataforma de código abierto para proponer y votar, puntos de voto "
            "asistido en los municipios y seguimiento público de cada obra.",
            "results": "La participación se triplicó y un tercio de los votantes tiene menos de "
            "30 años; 90 % de las obras elegidas se terminó en plazo.",
            "resources": "Una reserva de 5 % del presupuesto de inversión y un equipo de ocho "
            "personas.",
            "transferability": "La plataforma es libre y ya la usan otras intendencias.",
            "lessons": "El voto asistido evita que la brecha digital deje fuera a los mayores.",
        },
        period=("2016-01-01", "2024-12-31"),
    ),
    DemoItem(
        "practice",
        "malopolska",
        "resubmitted",
        "en",
        "Małopolska anti-smog programme: replacing coal stoves household by household",
        "A regional ban on burning coal in old stoves, with grants, energy advisers and "
        "air-quality sensors in every municipality.",
        ("energy-efficiency", "ecological-transition"),
        ("IURC-1",),
        {
            "problem": "Kraków and its region had some of the worst winter air in Europe, mostly "
            "from household coal stoves.",
            "actions": "The regional assembly adopted an anti-smog resolution; municipalities "
            "hired energy advisers who visit households and help them apply for grants.",
            "results": "Over 100,000 stoves replaced; days above the PM10 limit fell sharply.",
            "resources": "EU LIFE funds and national and regional grants.",
            "transferability": "Regions that heat with solid fuel can reuse the resolution and "
            "the adviser network.",
            "lessons": "A legal deadline and money together work; either alone does not.",
        },
        comment="A strong practice. Could you say what the programme cost per household and "
        "how the fall in smog days was measured?",
        revision={
            "results": "Over 100,000 stoves replaced by 2024. Days above the PM10 daily limit "
            "in Kraków fell from 150 in 2015 to 36 in 2023, measured by the regional "
            "environmental inspectorate's stations.",
            "resources": "About €3,500 per household on average, from EU LIFE funds and "
            "national and regional grants; 200 energy advisers.",
        },
    ),
    DemoItem(
        "practice",
        "andalucia",
        "published",
        "es",
        "Autoconsumo solar compartido en polígonos industriales",
        "Comunidades energéticas en las que las empresas de un polígono comparten placas "
        "solares sobre sus naves.",
        ("energy-transition", "energy-efficiency", "industrial-modernisation"),
        ("IURC-2",),
        {
            "problem": "Las pymes industriales pagaban una energía cara y no tenían tejado "
            "suficiente o capacidad técnica para instalar placas por su cuenta.",
            "actions": "La agencia redactó modelos de estatutos, ofreció asesoría jurídica y "
            "técnica y una línea de incentivos para instalaciones compartidas.",
            "results": "42 comunidades en marcha y un ahorro medio de 25 % en la factura.",
            "resources": "Incentivos de 30 millones de euros de fondos europeos.",
            "transferability": "Sirve en cualquier zona industrial con buena radiación solar.",
            "lessons": "Una persona de contacto en el polígono acelera más que cualquier "
            "incentivo.",
        },
        period=("2020-01-01", "2024-12-31"),
    ),
    DemoItem(
        "practice",
        "sedatu",
        "submitted",
        "es",
        "Programa de Mejoramiento Urbano en barrios de alta marginación",
        "Espacios públicos, equipamientos y regularización de vivienda en barrios de 150 "
        "municipios, diseñados con sus habitantes.",
        ("urban-regional-renewal", "social-cohesion", "multi-level-governance"),
        ("EU-MX-DIALOGUE-2", "EU-MX-DIALOGUE-3"),
        {
            "problem": "Millones de personas viven en barrios sin espacios públicos de calidad ni "
            "certeza sobre la propiedad de su vivienda.",
            "actions": "Concursos de arquitectura, talleres con vecinos y convenios con los "
            "municipios para mantener las obras.",
            "results": "Más de 1 000 obras entregadas y 100 000 escrituras regularizadas.",
            "resources": "Presupuesto federal de unos 8 000 millones de pesos al año.",
            "transferability": "Adaptable a programas nacionales que trabajan con gobiernos "
            "locales.",
            "lessons": "El mantenimiento debe pactarse con el municipio antes de construir.",
        },
        period=("2019-01-01", "2024-09-30"),
    ),
    DemoItem(
        "practice",
        "amp",
        "draft",
        "pt",
        "Passe metropolitano único: um só título para 17 municípios",
        "Um passe mensal de 40 euros válido em todos os operadores da área metropolitana do Porto.",
        ("sustainable-mobility", "social-cohesion"),
        ("IURC-1",),
        {
            "problem": "Havia mais de 2 000 títulos diferentes e viajar entre concelhos podia "
            "custar mais de 100 euros por mês.",
            "actions": "A área metropolitana passou a autoridade de transportes, negociou com "
            "todos os operadores e compensa-os com fundos do Estado.",
            "results": "A procura de transporte público cresceu 25 % em dois anos.",
            "resources": "Compensação anual de cerca de 30 milhões de euros.",
            "transferability": "Exige uma autoridade metropolitana com competências de transporte.",
            "lessons": "A simplicidade do preço vale mais do que a redução em si.",
        },
        period=("2019-04-01", "2024-12-31"),
    ),
    DemoItem(
        "practice",
        "galicia",
        "published",
        "es",
        "Centro tecnológico compartido con el sector mejillonero de las rías gallegas",
        "Un centro de investigación aplicada financiado con el sector que vigila las biotoxinas "
        "y mejora el cultivo del mejillón en batea.",
        ("aquaculture", "blue-economy", "innovation-systems"),
        ("INNOV-AL-1",),
        {
            "problem": "Los cierres por biotoxinas paralizaban la producción semanas enteras sin "
            "aviso previo.",
            "actions": "Boyas de medición, un sistema de alerta temprana y proyectos de I+D "
            "decididos con las cofradías y las organizaciones de productores.",
            "results": "Los cierres se anuncian con días de antelación y la mortalidad en las "
            "bateas bajó un 20 %.",
            "resources": "Cofinanciado por la Xunta y las organizaciones de productores.",
            "transferability": "Aplicable a la acuicultura de moluscos en Chile, Perú o Brasil.",
            "lessons": "El sector confía en los datos cuando participa en decidir qué se mide.",
        },
        period=("2015-01-01", "2024-12-31"),
    ),
)

IDEAS = (
    DemoItem(
        "idea",
        "tacna",
        "published",
        "es",
        "Ruta binacional de turismo de aventura Tacna–Arica",
        "Un circuito de trekking, ciclismo de montaña y turismo comunitario que cruce la "
        "frontera entre los Andes de Tacna y el altiplano de Arica.",
        ("tourism", "cross-border-cooperation"),
        ("INNOVACT-2",),
        {
            "description": "Diseñar, señalizar y promover una ruta común, con un paso fronterizo "
            "ágil para visitantes, guías certificados de ambos países y una marca compartida.",
            "value_chain": "Turismo de aventura andino",
            "expected_results": "Un producto turístico binacional, 30 emprendimientos "
            "comunitarios en la ruta y un 20 % más de visitantes en tres años.",
        },
        border_area="PE-CL",
        budget_range="100k_500k",
        open_for_days=120,
        partner_kinds=("region", "agency"),
        partner_sides=("EU",),
        partner_themes=("tourism", "cross-border-cooperation"),
        co_owners=(("arica", "accepted"),),
        invitation="Les proponemos presentar juntos la ruta binacional.",
    ),
    DemoItem(
        "idea",
        "arica",
        "in_review",
        "es",
        "Reúso de aguas residuales tratadas para la agricultura en los valles de Lluta y Caplina",
        "Plantas de tratamiento y redes de riego que devuelvan a la agricultura el agua "
        "residual de Arica y Tacna.",
        ("water-management", "agri-food", "circular-economy"),
        ("INNOVACT-2",),
        {
            "description": "Estudiar y poner en marcha el reúso de aguas tratadas para riego en "
            "los dos valles, con estándares sanitarios comunes y un sistema de monitoreo "
            "compartido.",
            "value_chain": "Agricultura en zonas de escasez hídrica",
            "expected_results": "10 millones de metros cúbicos al año devueltos al riego y una "
            "norma binacional de calidad del agua reutilizada.",
        },
        border_area="PE-CL",
        budget_range="1m_5m",
        open_for_days=180,
        partner_kinds=("region", "agency"),
        partner_sides=("EU",),
        partner_themes=("water-management",),
        co_owners=(("tacna", "accepted"),),
        invitation="Tacna comparte el mismo acuífero: hagámoslo juntos.",
    ),
    DemoItem(
        "idea",
        "tacna",
        "draft",
        "es",
        "Plataforma logística binacional para exportar aceituna y orégano",
        "Un centro de acopio y frío compartido que permita a los productores de Tacna exportar "
        "por el puerto de Arica.",
        ("value-chains", "agri-food", "cross-border-cooperation"),
        ("INNOVACT-2",),
        {
            "description": "Estudio de viabilidad y diseño de un centro logístico con trámites "
            "aduaneros y sanitarios simplificados.",
            "value_chain": "Agricultura en zonas de escasez hídrica",
        },
        border_area="PE-CL",
        budget_range="500k_1m",
        open_for_days=200,
        co_owners=(("arica", "invited"),),
        invitation="¿Se suman a esta idea? Sin el puerto de Arica no es posible.",
    ),
    DemoItem(
        "idea",
        "piura",
        "submitted",
        "es",
        "Cacao blanco de Piura y cacao fino de Loja: una cadena de valor binacional",
        "Centros de fermentación, una denominación de origen compartida y misiones comerciales "
        "conjuntas para el cacao de la frontera Perú–Ecuador.",
        ("agri-food", "value-chains"),
        ("INNOVACT-2",),
        {
            "description": "Articular a las cooperativas de ambos lados para fermentar y secar "
            "con los mismos protocolos, certificar la calidad y vender juntas en Europa.",
            "value_chain": "Cacao",
            "expected_results": "2 000 familias con un precio 30 % mayor y una marca de origen "
            "binacional registrada.",
        },
        border_area="EC-PE",
        budget_range="500k_1m",
        open_for_days=150,
        partner_kinds=("region", "cross_border_body"),
        partner_sides=("EU",),
        partner_themes=("agri-food", "value-chains"),
    ),
    DemoItem(
        "idea",
        "misiones",
        "published",
        "es",
        "Ruta de la yerba mate: turismo rural y comercio electrónico en la triple frontera",
        "Yerbales, secaderos y cooperativas abiertos al turismo, con una tienda en línea común a "
        "Misiones, Itapúa y el oeste de Paraná.",
        ("tourism", "ict", "agri-food"),
        ("INNOVACT-2",),
        {
            "description": "Una ruta turística y una plataforma de venta directa que pongan en "
            "valor la yerba mate de los tres países.",
            "value_chain": "Yerba mate",
            "expected_results": "50 establecimientos en la ruta y ventas directas por un millón "
            "de dólares al año.",
        },
        border_area="AR-PY-BR",
        budget_range="100k_500k",
        open_for_days=90,
        partner_kinds=("region", "municipality"),
        partner_sides=("EU", "LAC"),
        partner_themes=("tourism", "ict"),
    ),
    DemoItem(
        "idea",
        "foz",
        "published",
        "pt",
        "Destino inteligente Tríplice Fronteira: dados abertos para o turismo",
        "Um observatório de dados de turismo partilhado por Foz do Iguaçu, Puerto Iguazú e "
        "Ciudad del Este.",
        ("tourism", "ict", "smart-cities"),
        ("INNOVACT-1",),
        {
            "description": "Sensores de fluxo, dados de ocupação hoteleira e de fronteira num "
            "painel aberto, para planejar o turismo dos três países em conjunto.",
            "value_chain": "Turismo e TIC",
            "expected_results": "Um painel público, um calendário conjunto de eventos e menos "
            "filas na Ponte da Amizade nos picos de visitantes.",
        },
        border_area="AR-PY-BR",
        budget_range="100k_500k",
        open_for_days=100,
        partner_kinds=("municipality", "agency"),
        partner_sides=("EU",),
        partner_themes=("smart-cities", "tourism"),
    ),
    DemoItem(
        "idea",
        "narino",
        "changes_requested",
        "es",
        "Cacao de la frontera Nariño–Carchi: centros de poscosecha compartidos",
        "Centros de poscosecha en ambos lados de la frontera para mejorar la calidad del cacao "
        "de pequeños productores.",
        ("agri-food", "value-chains", "cross-border-cooperation"),
        ("INNOVACT-2",),
        {
            "description": "Construir dos centros de fermentación y secado y formar a los "
            "productores.",
            "value_chain": "Cacao",
            "expected_results": "Mejor calidad del cacao.",
        },
        border_area="CO-EC",
        budget_range="500k_1m",
        open_for_days=160,
        comment="La idea es interesante, pero faltan los socios del lado ecuatoriano y unos "
        "resultados medibles (volúmenes, precios, número de familias).",
    ),
    DemoItem(
        "idea",
        "chiapas",
        "rejected",
        "es",
        "Energía solar para cooperativas cafetaleras de la frontera Chiapas–Guatemala",
        "Secadoras solares y bombeo fotovoltaico para cooperativas de café de ambos lados de "
        "la frontera.",
        ("energy-transition", "agri-food"),
        ("INNOVACT-2",),
        {
            "description": "Sustituir la leña y el diésel en el secado y el riego del café.",
            "value_chain": "Energía limpia",
            "expected_results": "300 cooperativas con energía solar.",
        },
        border_area="MX-GT",
        budget_range="1m_5m",
        open_for_days=200,
        comment="La misma propuesta ya está financiada por el programa regional de energía "
        "sostenible; les sugerimos sumarse a ese proyecto en lugar de abrir otro.",
    ),
    DemoItem(
        "idea",
        "pando",
        "closed",
        "es",
        "Asaí y castaña amazónica: certificación conjunta Pando–Madre de Dios",
        "Un sello de origen amazónico y un laboratorio común de calidad para los recolectores "
        "de Bolivia y Perú.",
        ("natural-resource-management", "agri-food", "nature-conservation"),
        ("INNOVACT-2",),
        {
            "description": "Certificar el manejo sostenible del bosque y la calidad de la "
            "castaña y del asaí con un sistema compartido por ambos países.",
            "value_chain": "Frutos amazónicos",
            "expected_results": "1 500 recolectores certificados y acceso a mercados de comercio "
            "justo en Europa.",
        },
        border_area="BO-PE",
        budget_range="100k_500k",
        open_for_days=60,
        partner_kinds=("agency",),
        partner_sides=("EU",),
        partner_themes=("nature-conservation",),
    ),
    DemoItem(
        "idea",
        "gnp",
        "revised",
        "pt",
        "Aprender com a Eurorregião Galiza–Norte de Portugal: intercâmbio para a fronteira "
        "Peru–Chile",
        "Visitas técnicas e mentoria para que Tacna e Arica criem uma estrutura de cooperação "
        "transfronteiriça permanente.",
        ("cross-border-cooperation", "multi-level-governance"),
        ("INNOVACT-1", "INNOVACT-3"),
        {
            "description": "Três visitas técnicas, um manual de governação transfronteiriça e "
            "apoio à redação dos estatutos de um agrupamento binacional.",
            "value_chain": "Turismo de aventura andino",
            "expected_results": "Um acordo de cooperação assinado e um secretariado técnico comum.",
        },
        border_area="PE-CL",
        budget_range="under_100k",
        open_for_days=140,
        partner_kinds=("region", "cross_border_body"),
        partner_sides=("LAC",),
        partner_themes=("cross-border-cooperation",),
        revision={
            "expected_results": "Um acordo de cooperação assinado, um secretariado técnico comum "
            "e um primeiro projeto conjunto candidatado a financiamento europeu.",
        },
    ),
    DemoItem(
        "idea",
        "occitanie",
        "archived",
        "en",
        "Peer exchange on drought management with the Peru–Chile border regions",
        "Study visits between Occitanie's water basins and the Caplina and Lluta valleys.",
        ("water-management", "cross-border-cooperation"),
        ("INNOVACT-1",),
        {
            "description": "Two study visits and a joint report on sharing water in dry years.",
            "value_chain": "Agriculture in water-scarce areas",
            "expected_results": "A joint report and a follow-up project with Tacna and Arica.",
        },
        border_area="PE-CL",
        budget_range="under_100k",
        open_for_days=90,
        partner_kinds=("region",),
        partner_sides=("LAC",),
        partner_themes=("water-management",),
    ),
)

ITEMS = PRACTICES + IDEAS

INTERESTS = (
    DemoInterest(
        "Rede Integrada de Transporte: canaletas exclusivas e estações-tubo",
        "bologna",
        "We are redesigning our bus network around the new tram lines and would like to learn "
        "how you run the tube stations and the fare integration.",
        answer="Com prazer! We can host a technical visit in March; the URBS team will present "
        "the station design and the ridership data.",
    ),
    DemoInterest(
        "Riego tecnificado para la agricultura familiar en el valle de Caplina",
        "jalisco",
        "En Los Altos tenemos el mismo problema con los acuíferos. Nos interesa conocer las "
        "bases del fondo concursable y cómo organizaron a los regantes.",
    ),
    DemoInterest(
        "Ruta binacional de turismo de aventura Tacna–Arica",
        "occitanie",
        "Occitanie manages cross-border trails in the Pyrenees with Catalonia and Andorra; we "
        "would be glad to share how we run them.",
        answer="¡Muchas gracias! Les escribiremos para organizar una videollamada con los dos "
        "gobiernos regionales.",
    ),
    DemoInterest(
        "Câmbio Verde: recicláveis trocados por alimentos da agricultura familiar",
        "porto",
        "Gostaríamos de saber como organizam a logística dos alimentos e a venda dos "
        "recicláveis às associações de catadores.",
        answer="Claro! Enviamos o caderno de procedimentos e podemos marcar uma chamada com a "
        "equipa do programa.",
    ),
    DemoInterest(
        "Civic imagination offices: neighbourhood labs for urban regeneration",
        "aburra",
        "Estamos creando laboratorios barriales en Medellín y Bello. ¿Podrían compartir el "
        "reglamento de los pactos de colaboración?",
    ),
    DemoInterest(
        "Destino inteligente Tríplice Fronteira: dados abertos para o turismo",
        "montevideo",
        "Montevideo tiene un observatorio de turismo con datos abiertos; nos gustaría sumar "
        "nuestra experiencia.",
    ),
    DemoInterest(
        "Ruta de la yerba mate: turismo rural y comercio electrónico en la triple frontera",
        "foz",
        "Foz do Iguaçu quer integrar a rota ao circuito das Cataratas. Podemos conversar?",
        answer="¡Por supuesto! Los invitamos a la reunión de socios del mes próximo en Posadas.",
    ),
    DemoInterest(
        "EnCicla: bicicletas públicas integradas al metro del Valle de Aburrá",
        "montevideo",
        "Queremos integrar nuestras bicicletas públicas con el sistema de transporte "
        "metropolitano; ¿cómo resolvieron la tarjeta única?",
    ),
)
