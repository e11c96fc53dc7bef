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
