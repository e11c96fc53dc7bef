#!/usr/bin/env python3
"""Generate the country presentations of the sample corpus (illustrative
sample data written for egovkb, not real delegations' slides): PPTX with
python-pptx, PDF with reportlab, from the outlines below. Run again after
editing an outline; the files are committed.

    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install python-pptx reportlab
    /tmp/fx/bin/python corpus/make_presentations.py
"""
import os

from pptx import Presentation
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "originals", "presentations")

# (file, default-looking embedded title, slides: (title, lines, notes))
DECKS = [
    ("paraguay-2018-informe-pais.pptx", "Presentación de PowerPoint", [
        ("Paraguay: informe país", ["Curso avanzado de gobierno electrónico, Seúl, junio de 2018",
                                    "Ministerio de Tecnologías de la Información y Comunicación"], ""),
        ("Marco legal y plan nacional", ["Ley de gobierno electrónico y plan nacional de TIC",
                                         "Agenda digital financiada con el BID"], ""),
        ("Registro civil e identidad", ["El registro civil y la cédula de identidad aún no comparten datos",
                                        "Meta: un número único de identificación como el registro de residentes de Corea"],
         "Mencionar la visita técnica prevista a Corea."),
        ("Desafíos", ["Interoperabilidad entre entidades", "Ciberseguridad", "Conectividad en zonas rurales"], ""),
    ]),
    ("peru-2018-country-report.pdf", "PowerPoint Presentation", [
        ("Peru: country report", ["Advanced e-Government Course, Seoul, June 2018",
                                  "Secretariat of Digital Government"], ""),
        ("Digital government strategy", ["National digital government policy", "One portal for citizens: gob.pe"], ""),
        ("E-procurement", ["Electronic public procurement platform for all buyers",
                           "Interest in Korea's KONEPS and open procurement data"], ""),
        ("Challenges", ["Interoperability of registries", "Digital identity", "Cyber security"], ""),
    ]),
]


# The other country reports of the 2018 course follow the outline the
# course asked for: lead agency, legal framework, national plan, portal,
# digital identity, interoperability, challenges.
REPORTS = [
    # (file, lang, country, agency, law, plan, portal, identity, interop, challenges)
    ("argentina-2018-informe-pais.pptx", "es", "Argentina", "Secretaría de Gobierno de Modernización",
     "Ley de firma digital y decreto de trámites a distancia", "Plan de modernización del Estado",
     "Portal argentina.gob.ar y la app Mi Argentina", "Identidad digital con el DNI y validación biométrica",
     "Interoperabilidad entre el registro de personas y la seguridad social", "Ciberseguridad y alfabetización digital"),
    ("bahamas-2018-country-report.pdf", "en", "The Bahamas", "Department of Transformation and Digitization",
     "Electronic Communications and Transactions Act", "National e-government strategy",
     "One government portal for permits and licences", "A national digital identity is being designed",
     "Interoperability between customs, tax and the registry", "Connectivity across the islands and cyber security"),
    ("bolivia-2018-informe-pais.pptx", "es", "Bolivia", "AGETIC, Agencia de Gobierno Electrónico y TIC",
     "Ley general de telecomunicaciones y TIC", "Plan de implementación de gobierno electrónico",
     "Portal gob.bo", "Ciudadanía digital con firma electrónica",
     "Plataforma de interoperabilidad del Estado", "Software libre, capacitación de servidores públicos y conectividad rural"),
    ("brazil-2018-country-report.pdf", "en", "Brazil", "Secretariat of Digital Government",
     "Digital governance decree", "Digital government strategy 2016-2019",
     "Services portal servicos.gov.br", "Digital identity with the gov.br account",
     "Interoperability through a national citizen base", "Scale: 5,570 municipalities and local government capacity"),
    ("chile-2018-informe-pais.pptx", "es", "Chile", "División de Gobierno Digital",
     "Ley de firma electrónica y ley de transformación digital", "Agenda digital 2020",
     "Portal ChileAtiende y ventanilla única", "ClaveÚnica, identidad digital para todos los trámites",
     "Red de interoperabilidad del Estado", "Cero papel en el Estado y ciberseguridad"),
    ("dominica-2018-country-report.pdf", "en", "Dominica", "ICT Unit, Ministry of Public Works",
     "Electronic transactions bill in preparation", "National ICT strategy",
     "Government information portal", "A national ID linked to civil registration",
     "Interoperability of the civil registry and social security", "Disaster recovery after hurricane Maria and connectivity"),
    ("ecuador-2018-informe-pais.pptx", "es", "Ecuador", "Ministerio de Telecomunicaciones (MINTEL)",
     "Ley de comercio electrónico, firmas y mensajes de datos", "Plan nacional de gobierno electrónico",
     "Portal gob.ec", "Firma electrónica y cédula con chip",
     "Bus de datos: interoperabilidad entre entidades", "Compras públicas electrónicas y datos abiertos"),
    ("el-salvador-2018-informe-pais.pdf", "es", "El Salvador", "Secretaría de Innovación de la Presidencia",
     "Ley de firma electrónica", "Agenda digital nacional",
     "Portal de trámites en línea", "Documento único de identidad y firma electrónica",
     "Interoperabilidad entre el registro de personas y hacienda", "Transparencia y capacitación de funcionarios"),
    ("guyana-2018-country-report.pptx", "en", "Guyana", "National Data Management Authority",
     "Data protection and electronic transactions bills", "E-government strategy",
     "Government portal and e-services", "A national ID card for online services",
     "Interoperability of government data centres", "Broadband in hinterland communities and digital literacy"),
    ("jamaica-2018-country-report.pdf", "en", "Jamaica", "eGov Jamaica Limited",
     "Electronic Transactions Act", "ICT policy and Vision 2030",
     "One-stop online services for businesses", "National Identification System (NIDS)",
     "Interoperability between tax, customs and social security", "Cyber security and disaster management"),
    ("uruguay-2018-informe-pais.pptx", "es", "Uruguay", "AGESIC, Agencia de Gobierno Electrónico y Sociedad de la Información",
     "Ley de protección de datos personales y ley de documento electrónico", "Agenda digital Uruguay 2020",
     "Portal gub.uy con todos los trámites en línea", "Cédula de identidad electrónica e identidad digital",
     "Plataforma de interoperabilidad (PDI)", "Datos abiertos, salud digital y ciberseguridad"),
    ("venezuela-2018-informe-pais.pdf", "es", "Venezuela", "Centro Nacional de Tecnologías de Información",
     "Ley de infogobierno", "Plan nacional de tecnologías de información",
     "Portal de trámites del Estado", "Cédula de identidad y firma electrónica",
     "Interoperabilidad entre registros del Estado", "Software libre y capacitación"),
]
HEADS = {
    "es": ["{c}: informe país", "Entidad rectora", "Marco legal", "Plan nacional", "Portal",
           "Identidad digital", "Interoperabilidad", "Desafíos"],
    "en": ["{c}: country report", "Lead agency", "Legal framework", "National plan", "Portal",
           "Digital identity", "Interoperability", "Challenges"],
}
SUBTITLE = {"es": "Curso avanzado de gobierno electrónico, Seúl, junio de 2018",
            "en": "Advanced e-Government Course, Seoul, June 2018"}
DEFAULT_TITLE = {"es": "Presentación de PowerPoint", "en": "PowerPoint Presentation"}
for (name, lang, country, *facts) in REPORTS:
    heads = HEADS[lang]
    slides = [(heads[0].format(c=country), [SUBTITLE[lang]], "")]
    slides += [(heads[i + 1], [fact], "") for i, fact in enumerate(facts)]
    DECKS.append((name, DEFAULT_TITLE[lang], slides))

# Korea's own presentation at the 2023 course, in Korean.
DECKS.append(("korea-2023-전자정부-추진현황.pptx", "Presentación de PowerPoint", [
    ("한국 전자정부 추진 현황", ["디지털정부 과정, 2023년 10월", "행정안전부"], ""),
    ("법과 제도", ["전자정부법(2001)과 디지털정부 기본계획"], ""),
    ("대표 서비스", ["정부24 통합 민원 서비스", "나라장터 전자조달", "홈택스"], "각 서비스의 이용 건수를 소개한다."),
    ("행정정보공동이용", ["기관 간 행정정보 공동이용으로 구비서류 감축"], ""),
    ("새로운 과제", ["인공지능과 클라우드 전환", "사이버보안 강화"], ""),
]))


def pptx(name, title, slides):
    p = Presentation()
    p.core_properties.title = title
    for i, (head, lines, notes) in enumerate(slides):
        s = p.slides.add_slide(p.slide_layouts[0 if i == 0 else 1])
        s.shapes.title.text = head
        body = s.placeholders[1].text_frame
        body.text = lines[0]
        for line in lines[1:]:
            body.add_paragraph().text = line
        if notes:
            s.notes_slide.notes_text_frame.text = notes
    p.save(os.path.join(HERE, name))


def pdf(name, title, slides):
    pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    c = canvas.Canvas(os.path.join(HERE, name), pagesize=landscape(A4))
    c.setTitle(title)
    for head, lines, _ in slides:
        c.setFont("DejaVu", 28)
        c.drawString(60, 480, head)
        c.setFont("DejaVu", 18)
        y = 420
        for line in lines:
            c.drawString(60, y, line)
            y -= 40
        c.showPage()
    c.save()


for name, title, slides in DECKS:
    (pptx if name.endswith(".pptx") else pdf)(name, title, slides)
